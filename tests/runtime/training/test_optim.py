"""Adam, SGD, StepLR and gradient clipping against PyTorch's documented update rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modreg.runtime import components
from modreg.runtime.training.optim import SGD, Adam, AdamConfig, SGDConfig, StepLR, clip_grad_norm, lr_decay_steps


class Param:
    """The two attributes an optimizer touches."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.grad: np.ndarray | None = None


def _reference_adam(p: np.ndarray, grads: list[np.ndarray], lr: float, b1: float, b2: float, eps: float, wd: float) -> np.ndarray:
    """torch.optim.Adam's algorithm as written in its documentation (amsgrad off)."""
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_matches_the_reference_algorithm(weight_decay: float) -> None:
    gen = np.random.default_rng(0)
    start = gen.normal(size=(3, 4))
    grads = [gen.normal(size=(3, 4)) for _ in range(7)]
    param = Param(start.copy())
    opt = Adam([param], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=weight_decay)
    for g in grads:
        param.grad = g.copy()
        opt.step()
    expected = _reference_adam(start, grads, 0.01, 0.8, 0.99, 1e-6, weight_decay)
    np.testing.assert_allclose(param.data, expected, rtol=1e-12, atol=1e-12)


def test_adam_first_step_moves_every_weight_by_lr_against_its_gradient() -> None:
    param = Param(np.zeros(4, dtype=np.float32))
    param.grad = np.array([3.0, -0.5, 1e-3, -20.0], dtype=np.float32)
    Adam([param], lr=0.1).step()
    np.testing.assert_allclose(param.data, [-0.1, 0.1, -0.1, 0.1], rtol=1e-4)
    assert param.data.dtype == np.float32


def test_adam_skips_parameters_without_gradient_and_zero_grad_clears() -> None:
    a, b = Param(np.ones(2)), Param(np.ones(2))
    a.grad = np.ones(2)
    opt = Adam([a, b], lr=0.5)
    opt.step()
    assert np.all(b.data == 1.0) and np.all(a.data < 1.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_sgd_momentum_follows_torch_rule() -> None:
    param = Param(np.array([1.0]))
    opt = SGD([param], lr=0.1, momentum=0.9)
    for _ in range(3):
        param.grad = np.array([1.0])
        opt.step()
    # buf: 1, 1.9, 2.71 -> p = 1 - 0.1 * (1 + 1.9 + 2.71)
    np.testing.assert_allclose(param.data, [1 - 0.1 * 5.61])


def test_sgd_nesterov_and_plain() -> None:
    plain, nesterov = Param(np.array([0.0])), Param(np.array([0.0]))
    plain.grad = np.array([2.0])
    SGD([plain], lr=0.5).step()
    assert plain.data[0] == -1.0
    nesterov.grad = np.array([1.0])
    SGD([nesterov], lr=1.0, momentum=0.5, nesterov=True).step()
    assert nesterov.data[0] == -1.5  # g + momentum * buf with buf = g
    with pytest.raises(ValueError):
        SGD([nesterov], lr=1.0, nesterov=True)


def test_step_lr_halves_like_neuralforecast() -> None:
    param = Param(np.zeros(1))
    opt = Adam([param], lr=1e-3)
    sched = StepLR(opt, step_size=lr_decay_steps(10, 3), gamma=0.5)
    seen = []
    for _ in range(10):
        seen.append(opt.lr)
        sched.step()
    assert seen == [1e-3] * 3 + [5e-4] * 3 + [2.5e-4] * 3 + [1.25e-4]
    assert lr_decay_steps(1000, -1) is None and lr_decay_steps(1000, 0) is None
    assert lr_decay_steps(2, 3) == 1


def test_clip_grad_norm_scales_all_gradients_together() -> None:
    a, b = Param(np.zeros(2)), Param(np.zeros(1))
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])
    total = clip_grad_norm([a, b], max_norm=1.0)
    assert total == pytest.approx(5.0)
    norm = math.sqrt(float(np.sum(a.grad**2) + np.sum(b.grad**2)))
    assert norm == pytest.approx(1.0, rel=1e-5)
    assert clip_grad_norm([a, b], max_norm=10.0) == pytest.approx(norm)
    np.testing.assert_allclose(a.grad, [0.6, 0.0], rtol=1e-5)


def test_clip_grad_norm_inf_norm_and_no_grads() -> None:
    a = Param(np.zeros(3))
    assert clip_grad_norm([a], 1.0) == 0.0
    a.grad = np.array([-4.0, 2.0, 1.0])
    assert clip_grad_norm([a], 2.0, norm_type=math.inf) == 4.0
    np.testing.assert_allclose(a.grad, [-2.0, 1.0, 0.5], rtol=1e-5)


def test_optimizer_components_build_from_names_and_tables() -> None:
    adam = components.build("optimizer", "adam")
    assert isinstance(adam, AdamConfig) and adam.to_config() == "adam"
    sgd = components.build("optimizer", {"type": "sgd", "momentum": 0.9})
    assert isinstance(sgd, SGDConfig) and sgd.to_config() == {
        "type": "sgd", "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
    opt = sgd.create([Param(np.zeros(2))], lr=0.1)
    assert isinstance(opt, SGD) and opt.momentum == 0.9 and opt.lr == 0.1
    assert isinstance(adam.create([Param(np.zeros(2))], lr=0.2), Adam)


def test_empty_parameter_list_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Adam([], lr=1.0)


def test_adam_spread_over_threads_updates_exactly_as_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from modreg.runtime.autograd import blas
    from modreg.runtime.training.optim import _balanced

    rng = np.random.default_rng(3)
    start = [rng.standard_normal(shape) for shape in ((40, 30), (7,), (300,), (12, 12), (5, 5, 5))]
    grads = [[rng.standard_normal(p.shape) for p in start] for _ in range(3)]
    monkeypatch.setattr(blas._state, "cap", 2)
    results = []
    for threads in (1, 2):
        params = [Param(p.copy()) for p in start]
        optimizer = Adam(params, lr=0.01, weight_decay=0.1)
        with blas.ceiling(threads):
            for step in grads:
                for param, grad in zip(params, step):
                    param.grad = grad
                optimizer.step()
        results.append([p.data for p in params])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)
    groups = _balanced([0, 1, 2, 3, 4], [1200, 7, 300, 144, 125], 2)
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3, 4] and groups[0] == [0]
