"""TFT-specific checks: GRN gating, variable selection, interpretable attention, the three exogenous kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor, no_grad
from modreg.runtime.autograd.ops_nn import masked_softmax
from modreg.runtime.data import SeriesFrame, read_series_csv
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.tft import TFT

DATA = Path(__file__).resolve().parents[2] / "data"
_R = np.random.default_rng(5)


def _x(*shape: int) -> Tensor:
    return Tensor(_R.standard_normal(shape))


def _float64(module: nn.Module) -> nn.Module:
    return module.to_dtype(np.float64).eval()


def test_parameter_counts_with_exogenous_inputs_equal_neuralforecast() -> None:
    # measured on neuralforecast 3.3.0's TFT(h=12, input_size=24, ...)
    assert TFT(h=12, input_size=24, stat_exog_list=("a", "b")).num_parameters() == 1_335_320
    assert TFT(h=12, input_size=24, hist_exog_list=("a",), futr_exog_list=("b", "c")).num_parameters() == 1_121_439


def test_grn_falls_back_on_its_skip_connection_when_the_glu_gate_closes() -> None:
    rng.seed(0)
    grn = _float64(nn.GRN(6, 8, output_size=3, context_hidden_size=4))
    a, c = _x(5, 7, 6), _x(5, 4)
    assert grn(a, c).shape == (5, 7, 3)
    grn.glu.lin.bias.data[3:] = -1e3  # sigmoid(gate) = 0: the block adds nothing
    expected = grn.layer_norm(grn.out_proj(a)).data
    np.testing.assert_allclose(grn(a, c).data, expected, atol=1e-12)
    assert isinstance(nn.GRN(6, 8, output_size=1).layer_norm, nn.Identity)  # a width-1 output is not normalised


def test_grn_on_embedded_scalars_equals_the_grn_on_the_materialised_embedding() -> None:
    rng.seed(1)
    values, vectors, bias = _x(4, 5, 3), _x(3, 8), _x(3, 8)
    embedded = (values.unsqueeze(-1) * vectors + bias).reshape(4, 5, 24)
    joint = _float64(nn.GRN(24, 8, output_size=3, context_hidden_size=8))
    context = _x(4, 8)
    np.testing.assert_allclose(joint.forward_embedded(values, vectors, bias, context).data,
                               joint(embedded, context).data, rtol=1e-10, atol=1e-12)
    single = _float64(nn.GRN(8, 8))
    np.testing.assert_allclose(single.forward_embedded(values[..., 1:2], vectors[1:2], bias[1:2]).data,
                               single(embedded[..., 8:16]).data, rtol=1e-10, atol=1e-12)


def test_variable_selection_weights_sum_to_one_and_mix_the_variable_grns() -> None:
    rng.seed(2)
    vsn = _float64(nn.VariableSelectionNetwork(8, 3, dropout=0.1, grn_activation="ELU"))
    values, vectors, bias = _x(4, 6, 3), _x(3, 8), _x(3, 8)
    mixed, weights = vsn(values, vectors, bias, _x(4, 8))
    assert mixed.shape == (4, 6, 8) and weights.shape == (4, 6, 3)
    np.testing.assert_allclose(weights.data.sum(axis=-1), 1.0)
    assert (weights.data > 0).all()
    embedded = values.unsqueeze(-1) * vectors + bias  # (4, 6, 3, 8)
    expected = sum(grn(embedded[..., i, :]).data * weights.data[..., i:i + 1] for i, grn in enumerate(vsn.var_grns))
    np.testing.assert_allclose(mixed.data, expected, rtol=1e-10, atol=1e-12)


def test_a_variable_equal_at_every_step_runs_its_grn_once_per_row_with_the_same_result_and_dropout() -> None:
    from modreg.runtime.nn.gating import _steps

    vsn = nn.VariableSelectionNetwork(8, 2, dropout=0.3, grn_activation="ELU").to_dtype(np.float64)  # training
    values, vectors, bias, context = _x(4, 6, 2), _x(2, 8), _x(2, 8), _x(4, 8)
    values.data[:, :, 0] = values.data[:, :1, 0]  # the first variable repeats its first step
    assert _steps(values[..., :1])[1] == 6 and _steps(values[..., 1:])[1] is None
    vectors.requires_grad = bias.requires_grad = True
    rng.seed(7)
    mixed, _ = vsn(values, vectors, bias, context)
    (mixed * mixed).sum().backward()
    grads = [p.grad.copy() for p in (vectors, bias, *vsn.parameters())]
    vectors.grad = bias.grad = None
    vsn.zero_grad()
    rng.seed(7)  # the same dropout draws, the variables' GRNs run over every step
    weights = masked_softmax(vsn.joint_grn.forward_embedded(values, vectors, bias, context))
    reference = sum(grn.forward_embedded(values[..., i:i + 1], vectors[i:i + 1], bias[i:i + 1]) * weights[..., i:i + 1]
                    for i, grn in enumerate(vsn.var_grns))
    np.testing.assert_allclose(mixed.data, reference.data, rtol=1e-12, atol=1e-12)
    (reference * reference).sum().backward()
    for grad, p in zip(grads, (vectors, bias, *vsn.parameters()), strict=True):
        np.testing.assert_allclose(grad, p.grad, rtol=1e-10, atol=1e-12)


def test_one_variable_is_selected_with_weight_one_and_the_joint_grn_is_not_run() -> None:
    rng.seed(4)
    vsn = _float64(nn.VariableSelectionNetwork(8, 1, dropout=0.1, grn_activation="ELU"))
    values, vectors, bias = _x(3, 5, 1), _x(1, 8), _x(1, 8)
    mixed, weights = vsn(values, vectors, bias, _x(3, 8))
    np.testing.assert_array_equal(weights.data, np.ones((3, 5, 1)))
    np.testing.assert_allclose(mixed.data, vsn.var_grns[0].forward_embedded(values, vectors, bias).data, rtol=1e-12)
    mixed.sum().backward()
    assert all(p.grad is None for p in vsn.joint_grn.parameters())  # its softmax over one entry has zero slope


def _reference_attention(attention: nn.InterpretableMultiHeadAttention, x: Tensor) -> np.ndarray:
    """Per head: softmax(q_h k_h^T / sqrt(d), causal) @ v with the one shared v; heads averaged."""
    n, d = attention.n_head, attention.d_head
    qkv = x.data @ attention.qkv_linears.weight.data.T
    v = qkv[..., 2 * n * d:]
    t = x.shape[1]
    heads = []
    for h in range(n):
        q, k = qkv[..., h * d:(h + 1) * d], qkv[..., (n + h) * d:(n + h + 1) * d]
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d) + np.triu(np.full((t, t), -np.inf), 1)
        prob = np.exp(scores - scores.max(-1, keepdims=True))
        heads.append(prob / prob.sum(-1, keepdims=True) @ v)
    return np.mean(heads, axis=0) @ attention.out_proj.weight.data.T


def test_interpretable_attention_shares_one_value_projection_across_heads() -> None:
    rng.seed(3)
    attention = _float64(nn.InterpretableMultiHeadAttention(n_head=4, hidden_size=16))
    assert attention.qkv_linears.weight.shape == ((2 * 4 + 1) * 4, 16)  # n queries, n keys, ONE value
    assert attention.out_proj.weight.shape == (16, 4)
    x = _x(3, 9, 16)
    out, prob = attention(x)
    np.testing.assert_allclose(out.data, _reference_attention(attention, x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(prob.data.sum(-1), 1.0)
    assert np.all(np.triu(prob.data[0, 0], 1) == 0)  # no step attends to a later one
    later, _ = attention(x, query_start=5)  # only the queries a caller keeps
    np.testing.assert_allclose(later.data, out.data[:, 5:], rtol=1e-12)


def _exogenous_frame() -> tuple[SeriesFrame, SeriesFrame]:
    data = read_series_csv(DATA / "us_change.csv")
    n = data.lengths[0]
    exog = {**data.exog, "level": [np.full(n, 2.5)]}
    full = SeriesFrame.from_arrays(data.y, ids=data.ids, ds=data.ds, exog=exog)
    futr = SeriesFrame.from_arrays([data.y[0][-12:]], ids=data.ids, ds=[data.ds[0][-12:]],
                                   exog={"income": [data.exog["income"][0][-12:]]})
    return full.slice_end(12), futr


def test_static_historical_and_future_inputs_train_forecast_and_explain() -> None:
    train, futr = _exogenous_frame()
    model = TFT(h=12, input_size=24, hidden_size=16, n_head=2, max_steps=3, windows_batch_size=16,
                stat_exog_list=("level",), hist_exog_list=("savings", "unemployment"), futr_exog_list=("income",))
    forecast = model.fit(train).predict(futr=futr)
    assert forecast.point.shape == (1, 12) and np.isfinite(forecast.point).all()
    weights = model.network.interpretability
    assert weights["history_vsn_wgts"].shape == (1, 24, 4)  # savings, unemployment, income, the target
    assert weights["future_vsn_wgts"].shape == (1, 12, 1)
    assert weights["static_encoder_sparse_weights"].shape == (1, 1)
    assert weights["attn_wts"].shape == (1, 2, 12, 36)
    for name in ("history_vsn_wgts", "future_vsn_wgts", "static_encoder_sparse_weights", "attn_wts"):
        np.testing.assert_allclose(weights[name].sum(axis=-1), 1.0, rtol=1e-5)


def test_future_and_static_values_change_the_forecast() -> None:
    train, futr = _exogenous_frame()
    model = TFT(h=12, input_size=24, hidden_size=16, n_head=2, max_steps=2, windows_batch_size=16,
                stat_exog_list=("level",), futr_exog_list=("income",)).fit(train)
    base = model.predict(futr=futr).point
    shifted = SeriesFrame.from_arrays(futr.y, ids=futr.ids, ds=futr.ds, exog={"income": [futr.exog["income"][0] + 3]})
    assert not np.allclose(model.predict(futr=shifted).point, base)
    moved = SeriesFrame.from_arrays(train.y, ids=train.ids, ds=train.ds,
                                    exog={**train.exog, "level": [train.exog["level"][0] * 0 - 1]})
    assert not np.allclose(model.predict(moved, futr=futr).point, base)


@pytest.mark.parametrize("rnn_type", ["lstm", "gru"])
def test_recurrent_encoder_types_and_layers(rnn_type: str) -> None:
    model = TFT(h=4, input_size=8, hidden_size=8, n_head=2, rnn_type=rnn_type, n_rnn_layers=2,
                one_rnn_initial_state=True, stat_exog_list=("level",), max_steps=1, windows_batch_size=8)
    network = model._build_network()
    assert type(network.temporal_encoder.history_encoder) is (nn.LSTM if rnn_type == "lstm" else nn.GRU)
    assert len(network.static_encoder.context_grns) == (4 if rnn_type == "lstm" else 3)  # one shared state
    values = Tensor(np.linspace(0, 1, 3 * 8, dtype=np.float32).reshape(3, 8))
    batch = WindowBatch(insample_y=values, insample_mask=Tensor(np.ones((3, 8), np.float32)),
                        stat_exog=Tensor(np.ones((3, 1), np.float32)))
    with no_grad():
        assert network.eval()(batch).shape == (3, 4, 1)


def test_without_dropout_repeated_training_windows_are_merged() -> None:
    assert TFT(h=4, input_size=8, dropout=0.0)._build_network().independent_rows
    assert not TFT(h=4, input_size=8)._build_network().independent_rows  # dropout 0.1 by default


def test_a_batch_runs_in_chunks_of_rows_with_the_outputs_gradients_and_weights_of_one_pass(monkeypatch) -> None:
    import modreg.runtime.models.tft as tft

    rng.seed(3)
    network = _float64(TFT(h=4, input_size=8, hidden_size=8, n_head=2, stat_exog_list=("level",),
                           hist_exog_list=("a",), futr_exog_list=("b",))._build_network())
    batch = WindowBatch(insample_y=_x(7, 8), insample_mask=Tensor(np.ones((7, 8))), hist_exog=_x(7, 8, 1),
                        futr_exog=_x(7, 12, 1), stat_exog=_x(7, 1))
    runs = []
    for limit in (1 << 30, 2 * 12 * 2 * 8 * 8):  # one chunk; chunks of 2 rows (4 chunks, the last of 1)
        monkeypatch.setattr(tft, "_CHUNK_BYTES", limit)
        network.zero_grad()
        out = network(batch)
        (out * Tensor(np.linspace(-1, 1, out.size).reshape(out.shape))).sum().backward()
        runs.append((out.data, {k: p.grad.copy() for k, p in network.named_parameters() if p.grad is not None},
                     dict(network.interpretability)))
    (whole, grads, weights), (chunked, chunked_grads, chunked_weights) = runs
    np.testing.assert_allclose(chunked, whole, rtol=1e-10, atol=1e-12)
    assert grads.keys() == chunked_grads.keys()
    for name, grad in grads.items():
        np.testing.assert_allclose(chunked_grads[name], grad, rtol=1e-9, atol=1e-12, err_msg=name)
    assert weights.keys() == chunked_weights.keys() and weights["attn_wts"].shape == (7, 2, 4, 12)
    for name, value in weights.items():
        np.testing.assert_allclose(chunked_weights[name], value, rtol=1e-10, atol=1e-12)
