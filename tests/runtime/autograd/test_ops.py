"""The Tensor core and the ops' forward semantics (gradients are in test_gradcheck.py)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import modreg.runtime.autograd as ag
from modreg.runtime.autograd import Tensor, is_grad_enabled, no_grad

_R = np.random.default_rng(7)


# ----- dtypes -----
def test_python_values_become_float32_and_arrays_keep_their_float_dtype() -> None:
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64
    assert Tensor(np.zeros(2, np.float32)).dtype == np.float32
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64


def test_float32_stays_float32_through_scalars_and_float64_arrays() -> None:
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = (2.0 * x + np.float64(1.0)) / 3 - np.ones(3) * 0.5
    y = (y**2).exp().gelu().softmax().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad is not None and x.grad.dtype == np.float32


def test_ndarray_on_the_left_defers_to_the_tensor() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    y = np.arange(3.0) * x + np.ones(3)
    assert isinstance(y, Tensor)
    (np.ones((2, 3)) @ x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0, 2.0])


# ----- backward -----
def test_gradients_accumulate_over_uses_and_over_calls() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 5.0])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 8.0])


def test_the_graph_is_released_after_backward_unless_retained() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, [4.0, 8.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_broadcast_gradients_are_summed_back_to_the_input_shape() -> None:
    a = Tensor(_R.standard_normal((2, 3, 4)), requires_grad=True)
    b = Tensor(_R.standard_normal((3, 1)), requires_grad=True)
    (a * b).sum().backward()
    assert b.grad.shape == (3, 1)
    np.testing.assert_allclose(b.grad, a.data.sum(axis=(0, 2))[:, None])


def test_leaf_gradients_are_independent_arrays() -> None:
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 10.0
    np.testing.assert_allclose(b.grad, np.ones(3))
    assert a.grad.flags.writeable and b.grad.flags.writeable


def test_backward_handles_graphs_deeper_than_the_recursion_limit() -> None:
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(sys.getrecursionlimit() * 3):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** (sys.getrecursionlimit() * 3))


def test_only_tensors_that_require_grad_get_gradients() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    c = Tensor(np.ones(3))
    y = x * c
    y.sum().backward()
    assert c.grad is None and y.grad is None and x.grad is not None
    assert not (c * c).requires_grad


def test_backward_of_a_non_scalar_needs_a_gradient() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="one-element"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(x.grad, [2.0, 0.0, 4.0])


def test_no_grad_records_nothing_and_restores_the_mode() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        with no_grad():
            y = x * 2
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not y.requires_grad and y._parents == () and y._backward is None


def test_no_grad_works_as_a_decorator() -> None:
    @no_grad()
    def double(t: Tensor) -> Tensor:
        return t * 2

    assert not double(Tensor(np.ones(2), requires_grad=True)).requires_grad
    assert is_grad_enabled()


def test_detach_item_numpy_and_comparisons() -> None:
    x = Tensor(np.array([[1.5, -2.0]]), requires_grad=True)
    assert not x.detach().requires_grad and x.detach().data is x.data
    assert x.numpy() is x.data
    assert x[0, 0].item() == 1.5
    assert (x > 0).tolist() == [[True, False]]
    assert len(x) == 1 and x.size == 2 and x.ndim == 2


def test_tensor_exponent_is_rejected() -> None:
    with pytest.raises(TypeError, match="scalar exponent"):
        Tensor(np.ones(2)) ** Tensor(np.ones(2))


# ----- forward semantics -----
def test_getitem_with_repeated_indices_accumulates() -> None:
    x = Tensor(np.zeros(4), requires_grad=True)
    x[np.array([1, 1, 3])].sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 2.0, 0.0, 1.0])


def test_reductions_match_numpy() -> None:
    a = _R.standard_normal((3, 4, 5))
    t = Tensor(a)
    np.testing.assert_allclose(t.var(axis=(0, 2), ddof=1).data, a.var(axis=(0, 2), ddof=1))
    np.testing.assert_allclose(t.max(axis=1).data, a.max(axis=1))
    np.testing.assert_allclose(t.logsumexp(axis=-1).data, np.log(np.exp(a).sum(axis=-1)))
    np.testing.assert_allclose(t.softmax(axis=0).data.sum(axis=0), 1.0)
    np.testing.assert_allclose(t.log_softmax().data, np.log(t.softmax().data))
    assert t.sum().shape == () and t.mean(axis=1, keepdims=True).shape == (3, 1, 5)


def test_max_shares_the_gradient_between_ties() -> None:
    x = Tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 0.5])


def test_pad_matches_numpy() -> None:
    a = _R.standard_normal((2, 3))
    np.testing.assert_allclose(ag.pad(Tensor(a), ((1, 0), (2, 3)), mode="edge").data, np.pad(a, ((1, 0), (2, 3)), mode="edge"))
    np.testing.assert_allclose(ag.pad(Tensor(a), 1, value=7.0).data, np.pad(a, 1, constant_values=7.0))
    with pytest.raises(ValueError, match="pad mode"):
        ag.pad(Tensor(a), 1, mode="reflect")


def test_erf_matches_math_erf_to_float32_accuracy() -> None:
    grid = np.linspace(-6, 6, 2001)
    exact = np.array([math.erf(v) for v in grid])
    assert np.max(np.abs(ag.erf(grid) - exact)) < 1.5e-7


def test_lgamma_matches_math_lgamma_and_its_gradient_is_digamma() -> None:
    grid = np.concatenate([np.geomspace(1e-6, 1e8, 300), np.linspace(0.05, 20, 400)])
    exact = np.array([math.lgamma(v) for v in grid])
    assert np.max(np.abs(ag.lgamma(Tensor(grid)).data - exact) / np.maximum(1.0, np.abs(exact))) < 1e-12
    from modreg.runtime.autograd.ops_special import digamma_array

    euler_gamma, n = 0.5772156649015329, np.arange(1, 30)
    harmonic = np.cumsum(1.0 / n)  # psi(n + 1) = H_n - gamma; psi(1/2) = -gamma - 2 ln 2
    np.testing.assert_allclose(digamma_array(n + 1.0), harmonic - euler_gamma, rtol=1e-13)
    np.testing.assert_allclose(digamma_array(np.array([0.5])), -euler_gamma - 2 * math.log(2), rtol=1e-13)
    assert ag.lgamma(Tensor(np.ones(2, np.float32))).dtype == np.float32


def test_gelu_is_the_exact_erf_form() -> None:
    grid = np.linspace(-4, 4, 81)
    exact = np.array([v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in grid])
    np.testing.assert_allclose(Tensor(grid).gelu().data, exact, atol=2e-7)


def _conv1d_reference(x: np.ndarray, w: np.ndarray, stride: int, padding: int, dilation: int, groups: int) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    c_out, c_group, k = w.shape
    length = (xp.shape[2] - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((x.shape[0], c_out, length))
    for o in range(c_out):
        g = o // (c_out // groups)
        for t in range(length):
            taps = xp[:, g * c_group : (g + 1) * c_group, t * stride : t * stride + dilation * (k - 1) + 1 : dilation]
            out[:, o, t] = (taps * w[o]).sum(axis=(1, 2))
    return out


@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), [(1, 0, 1, 1), (2, 1, 1, 1), (1, 3, 2, 2), (3, 2, 3, 4)])
def test_conv1d_matches_a_direct_loop(stride: int, padding: int, dilation: int, groups: int) -> None:
    x, w, b = _R.standard_normal((2, 4, 13)), _R.standard_normal((8, 4 // groups, 3)), _R.standard_normal(8)
    got = ag.conv1d(Tensor(x), Tensor(w), Tensor(b), stride, padding, dilation, groups).data
    np.testing.assert_allclose(got, _conv1d_reference(x, w, stride, padding, dilation, groups) + b[:, None], atol=1e-12)


def test_conv2d_matches_a_direct_loop() -> None:
    x, w = _R.standard_normal((2, 3, 5, 6)), _R.standard_normal((4, 3, 3, 2))
    got = ag.conv2d(Tensor(x), Tensor(w), None, padding=(1, 0)).data
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    want = np.zeros((2, 4, 5, 5))
    for i in range(5):
        for j in range(5):
            want[:, :, i, j] = np.einsum("bckl,ockl->bo", xp[:, :, i : i + 3, j : j + 2], w)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_max_pool1d_ceil_mode_follows_pytorch() -> None:
    x = Tensor(np.arange(10.0).reshape(1, 1, 10))
    np.testing.assert_allclose(ag.max_pool1d(x, 3, ceil_mode=True).data, [[[2.0, 5.0, 8.0, 9.0]]])
    np.testing.assert_allclose(ag.max_pool1d(x, 3).data, [[[2.0, 5.0, 8.0]]])
    # ceil_mode keeps a partial window only if it starts inside the input (PyTorch's rule)
    assert ag.max_pool1d(Tensor(np.ones((1, 1, 5))), 1, stride=5, ceil_mode=True).shape == (1, 1, 1)
    assert ag.max_pool1d(Tensor(np.ones((1, 1, 6))), 1, stride=5, ceil_mode=True).shape == (1, 1, 2)


def test_avg_pool1d_is_a_moving_average() -> None:
    x = np.arange(6.0).reshape(1, 1, 6)
    np.testing.assert_allclose(ag.avg_pool1d(Tensor(x), 3).data, [[[1.0, 2.0, 3.0, 4.0]]])
    np.testing.assert_allclose(ag.avg_pool1d(Tensor(x), 2, stride=2).data, [[[0.5, 2.5, 4.5]]])


def test_interpolate_linear_matches_pytorch_align_corners_false() -> None:
    x = Tensor(np.array([[[1.0, 2.0, 3.0]]]))
    np.testing.assert_allclose(ag.interpolate_linear(x, 5).data, [[[1.0, 1.4, 2.0, 2.6, 3.0]]])
    np.testing.assert_allclose(ag.interpolate_linear(x, 6).data, [[[1.0, 1.25, 1.75, 2.25, 2.75, 3.0]]])
    np.testing.assert_allclose(ag.interpolate_linear(Tensor(np.arange(4.0)[None, None]), 2).data, [[[0.5, 2.5]]])


def test_rfft_and_irfft_match_numpy_and_invert_each_other() -> None:
    x = _R.standard_normal((3, 10))
    re, im = ag.rfft(Tensor(x))
    np.testing.assert_allclose(re.data + 1j * im.data, np.fft.rfft(x))
    np.testing.assert_allclose(ag.irfft(re, im, n=10).data, x, atol=1e-12)
    re7, _ = ag.rfft(Tensor(x), n=7, axis=-1)
    assert re7.shape == (3, 4)


def _lstm_unrolled(xw: Tensor, h: Tensor, c: Tensor, w: Tensor) -> Tensor:
    """The LSTM recurrence written with primitive ops, as a reference for the fused op: the
    hidden states (T, B, H) followed by the final cell state, (T + 1, B, H)."""
    hid = h.shape[1]
    outs = []
    for t in range(xw.shape[0]):
        z = xw[t] + h @ w.T
        i, f, g, o = z[:, :hid].sigmoid(), z[:, hid : 2 * hid].sigmoid(), z[:, 2 * hid : 3 * hid].tanh(), z[:, 3 * hid :].sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        outs.append(h)
    return ag.stack([*outs, c])


def _lstm_fused(xw: Tensor, h: Tensor, c: Tensor, w: Tensor) -> Tensor:
    hs, c_last = ag.lstm_scan(xw, h, c, w)
    return ag.concat([hs, c_last.unsqueeze(0)], axis=0)


@pytest.mark.parametrize("cell_weight", [0.0, 1.0])  # with and without a gradient reaching the final cell state
def test_fused_lstm_equals_the_unrolled_reference_in_values_and_gradients(cell_weight: float) -> None:
    arrays = [_R.standard_normal((6, 2, 12)), _R.standard_normal((2, 3)), _R.standard_normal((2, 3)), _R.standard_normal((12, 3))]
    cot = _R.standard_normal((7, 2, 3))
    cot[-1] *= cell_weight
    results = []
    for fn in (_lstm_fused, _lstm_unrolled):
        ts = [Tensor(a, requires_grad=True) for a in arrays]
        out = fn(*ts)
        (out * cot).sum().backward()
        results.append([out.data] + [t.grad for t in ts])
    for fused, unrolled in zip(*results, strict=True):
        np.testing.assert_allclose(fused, unrolled, atol=1e-10)


def test_gru_scan_follows_pytorch_equations() -> None:
    xw, h0, w, b = _R.standard_normal((4, 2, 9)), _R.standard_normal((2, 3)), _R.standard_normal((9, 3)), _R.standard_normal(9)
    h, want = h0, []
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    for t in range(4):
        hh = h @ w.T + b
        r, z = sig(xw[t, :, :3] + hh[:, :3]), sig(xw[t, :, 3:6] + hh[:, 3:6])
        n = np.tanh(xw[t, :, 6:] + r * hh[:, 6:])
        h = (1 - z) * n + z * h
        want.append(h)
    np.testing.assert_allclose(ag.gru_scan(Tensor(xw), Tensor(h0), Tensor(w), Tensor(b)).data, np.stack(want), atol=1e-12)


def test_every_public_op_is_registered() -> None:
    assert {"conv1d", "rfft", "lstm_scan", "layer_norm", "getitem", "linear"} <= set(ag.OPS)
    with pytest.raises(ValueError, match="registered twice"):
        ag.register_op("add")(lambda: None)


# ----- Index and complex ops -----
def test_gather_and_scatter_address_slices_by_per_row_indices() -> None:
    a = _R.standard_normal((2, 5, 3))
    index = np.array([[4, 0], [2, 2]])
    np.testing.assert_array_equal(ag.gather(Tensor(a), index, axis=1).data, np.take_along_axis(a, index[..., None], 1))
    values = _R.standard_normal((2, 2, 3))
    out = ag.scatter(Tensor(a), np.array([[4, 0], [1, 3]]), Tensor(values), axis=1).data
    expected = a.copy()
    expected[0, [4, 0]], expected[1, [1, 3]] = values[0], values[1]
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError, match="distinct"):
        ag.scatter(Tensor(a), index, Tensor(values), axis=1)
    with pytest.raises(IndexError):
        ag.gather(Tensor(a), np.array([[5], [0]]), axis=1)


def test_cumsum_matches_numpy() -> None:
    a = _R.standard_normal((3, 4))
    np.testing.assert_array_equal(ag.cumsum(Tensor(a), axis=0).data, np.cumsum(a, axis=0))


def test_complex_ops_match_numpy_complex_arithmetic_and_keep_float32() -> None:
    a, b = _R.standard_normal((2, 3, 4)) + 1j * _R.standard_normal((2, 3, 4)), _R.standard_normal((4, 2)) + 0.5j
    re, im = ag.complex_matmul(Tensor(a.real), Tensor(a.imag), Tensor(b.real), Tensor(b.imag))
    np.testing.assert_allclose(re.data + 1j * im.data, a @ b)
    re, im = ag.complex_tanh(Tensor(a.real), Tensor(a.imag))
    np.testing.assert_allclose(re.data + 1j * im.data, np.tanh(a))
    half = [Tensor(x.astype(np.float32)) for x in (a.real, a.imag)]
    assert all(t.dtype == np.float32 for t in ag.complex_tanh(*half))


def test_linear_with_relu_equals_linear_then_relu() -> None:
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((6, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    fused = [Tensor(a.copy(), requires_grad=True) for a in (x, w, b)]
    plain = [Tensor(a.copy(), requires_grad=True) for a in (x, w, b)]
    out_fused, out_plain = ag.linear(*fused, relu=True), ag.linear(*plain).relu()
    np.testing.assert_array_equal(out_fused.data, out_plain.data)
    cotangent = Tensor(rng.standard_normal(out_plain.shape))
    (out_fused * cotangent).sum().backward()
    (out_plain * cotangent).sum().backward()
    for a, c in zip(fused, plain):
        np.testing.assert_allclose(a.grad, c.grad, rtol=1e-12, atol=1e-12)


def test_masked_softmax_is_the_softmax_of_the_scaled_masked_scores() -> None:
    from modreg.runtime.autograd.ops_nn import masked_softmax

    for length in (3, 50):  # a short axis (column by column) and a long one
        x = _R.standard_normal((2, 4, length))
        allowed = _R.random((4, length)) > 0.3
        allowed[:, 0] = True
        expected = np.where(allowed, np.exp(0.5 * x - (0.5 * x).max(axis=-1, keepdims=True)), 0.0)
        expected /= expected.sum(axis=-1, keepdims=True)
        np.testing.assert_allclose(masked_softmax(Tensor(x), 0.5, allowed).data, expected, rtol=1e-12, atol=1e-300)
        assert (masked_softmax(Tensor(x), 0.5, allowed).data[:, ~allowed] == 0).all()
    np.testing.assert_allclose(masked_softmax(Tensor(x), allowed=np.zeros(length, bool)).data, 1 / length)


def test_glu_add_norm_is_layer_norm_of_glu_plus_skip() -> None:
    from modreg.runtime.autograd.ops_nn import glu_add_norm

    x, skip, w, b = (Tensor(_R.standard_normal(s), requires_grad=True) for s in ((2, 5, 8), (2, 1, 4), (4,), (4,)))
    fused = glu_add_norm(x, skip, w, b, 1e-3)
    plain = ag.layer_norm(ag.glu(x) + skip, w, b, 1e-3)
    np.testing.assert_allclose(fused.data, plain.data, rtol=1e-12, atol=1e-12)
    cotangent = _R.standard_normal(fused.shape)
    fused.backward(cotangent)
    grads = [t.grad.copy() for t in (x, skip, w, b)]
    for t in (x, skip, w, b):
        t.grad = None
    plain.backward(cotangent)
    for grad, t in zip(grads, (x, skip, w, b), strict=True):
        np.testing.assert_allclose(grad, t.grad, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="does not broadcast"):
        glu_add_norm(Tensor(np.ones((1, 4))), Tensor(np.ones((3, 2))), w, b)


def test_dropout_masks_keep_each_element_with_probability_one_minus_p() -> None:
    from modreg.runtime import rng
    from modreg.runtime.autograd.ops_nn import _keep_mask

    rng.seed(11)
    for p in (0.3, 0.5 + 2**-20):
        keep = _keep_mask((1000, 2000), round(p * 2**32))
        assert abs((~keep).mean() - p) < 5 * np.sqrt(p * (1 - p) / keep.size)
    # threshold 2**16: high 16 bits 1, low 0: a tie (high bits 1) is kept, so only high bits 0 drop
    drops = (~_keep_mask((1000, 2000), 2**16)).sum()
    assert 10 < drops < 52  # 2e6 / 65536 = 30.5 expected; dropping the ties too would give 61
    assert not _keep_mask((1000, 2000), 2**32 - 1).any()  # every tie draws its low bits: 2e6 * 2**-32


def test_linear_split_over_threads_gives_the_same_bits_as_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from modreg.runtime.autograd import blas

    monkeypatch.setattr(blas, "_timings", {})
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((1024, 256), (128, 256), (128,), (1024, 128))]
    runs = []
    for _ in range(4):  # a product's first calls alternate whole and split
        x, w, b = (Tensor(a, requires_grad=True) for a in arrays[:3])
        with blas.ceiling(2):
            out = ag.linear(x, w, b, relu=True)
            (out * Tensor(arrays[3])).sum().backward()
        runs.append([out.data, x.grad, w.grad, b.grad])
    assert all(len(t.seconds) == 2 for t in blas._timings.values())  # both ways ran
    for run in runs[1:]:
        for got, first in zip(run, runs[0]):
            np.testing.assert_array_equal(got, first)


@pytest.mark.parametrize("shapes", [((512, 512), (512, 24)), ((24, 512), (512, 512))])
def test_matmul_split_over_threads_gives_the_same_bits_as_one_thread(
    monkeypatch: pytest.MonkeyPatch, shapes: tuple[tuple[int, int], tuple[int, int]]
) -> None:
    from modreg.runtime.autograd import blas

    monkeypatch.setattr(blas, "_timings", {})
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    runs = []
    for _ in range(4):  # a product's first calls alternate whole and split (rows or columns)
        a, b = (Tensor(x, requires_grad=True) for x in arrays)
        with blas.ceiling(2):
            out = a @ b
            (out * out).sum().backward()
        runs.append([out.data, a.grad, b.grad])
    assert blas._timings and all(len(t.seconds) == 2 for t in blas._timings.values())
    for run in runs[1:]:
        for got, first in zip(run, runs[0]):
            np.testing.assert_array_equal(got, first)
