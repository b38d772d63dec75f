"""A check shared by the model tests: two ways of running a network give one forecast and one set of gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor

Agree = Callable[[nn.Module, Callable[[], Tensor], Callable[[], Tensor]], list[np.ndarray]]


@pytest.fixture
def same_forecast_and_gradients() -> Agree:
    """check(network, run, reference): each run's output and the gradients of sum(out ** 2) agree
    (float64 tolerances); returns the first run's gradients, in parameter order."""

    def check(network: nn.Module, run: Callable[[], Tensor], reference: Callable[[], Tensor]) -> list[np.ndarray]:
        results = []
        for forward in (run, reference):
            network.zero_grad()
            out = forward()
            (out * out).sum().backward()
            results.append((out.data, [p.grad for p in network.parameters() if p.requires_grad]))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
        for ours, full in zip(results[0][1], results[1][1], strict=True):
            np.testing.assert_allclose(ours, full, rtol=1e-10, atol=1e-14)
        return results[0][1]

    return check
