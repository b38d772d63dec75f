"""TCN: a causal dilated convolution encoder with an MLP decoder (neuralforecast's TCN)."""

from __future__ import annotations

from typing import Any, ClassVar

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._decoder import ACTIVATIONS, ActivationName, MLPDecoder, encoder_input
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster

__all__ = ["TCN"]


class _TemporalConvolutionEncoder(nn.Module):
    """Stacked causal convolutions, one per dilation, each followed by the activation.

    Shapes: time-major (L, B, C_in) -> (L, B, C_out); output t depends on inputs <= t only.
    A ReLU is fused into its convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilations: tuple[int, ...],
                 activation: str) -> None:
        super().__init__()
        channels = [in_channels] + [out_channels] * len(dilations)
        self.tcn = nn.ModuleList([nn.CausalConv1d(a, b, kernel_size, dilation=d)
                                  for a, b, d in zip(channels[:-1], channels[1:], dilations)])
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        relu = self.activation == "ReLU"
        for conv in self.tcn:
            x = conv.time_major(x, relu=relu)
            x = x if relu else ACTIVATIONS[self.activation](x)
        return x


class _TCNNetwork(nn.Module):
    """TCN encoder -> context adapter Linear(L -> h) over time -> MLP decoder per horizon step.

    Everything runs time-major, (time, B, channels): the adapter is then one product of its
    weight (h, L) with the encoder's states as an (L, B * H) matrix, and its output is the
    decoder's input without a transpose.
    """

    independent_rows = True

    def __init__(self, *, n_inputs: int, h: int, input_size: int, futr_size: int, n_outputs: int,
                 kernel_size: int, dilations: tuple[int, ...], encoder_hidden_size: int, encoder_activation: str,
                 decoder_hidden_size: int, decoder_layers: int) -> None:
        super().__init__()
        self.hist_encoder = _TemporalConvolutionEncoder(n_inputs, encoder_hidden_size, kernel_size, dilations,
                                                        encoder_activation)
        self.context_adapter = nn.Linear(input_size, h)
        self.mlp_decoder = MLPDecoder(encoder_hidden_size + futr_size, n_outputs, decoder_hidden_size, decoder_layers)

    def forward(self, batch: WindowBatch) -> Tensor:
        size = batch.insample_y.shape[1]
        futr = batch.futr_exog
        x = encoder_input(batch.insample_y, batch.hist_exog, batch.stat_exog, None if futr is None else futr[:, :size])
        hidden = self.hist_encoder(x.swapaxes(0, 1))  # (B, L, C) -> (L, B, C) -> (L, B, H)
        steps, batch, width = hidden.shape
        adapter = self.context_adapter
        context = adapter.weight @ hidden.reshape(steps, batch * width)  # (h, L) @ (L, B * H) -> (h, B * H)
        if adapter.bias is not None:
            context = context + adapter.bias.reshape(-1, 1)
        context = context.reshape(-1, batch, width)  # (h, B * H) -> (h, B, H)
        if futr is not None:
            context = concat([context, futr[:, size:].swapaxes(0, 1)], axis=2)  # (h, B, H + F)
        return self.mlp_decoder(context).swapaxes(0, 1)  # (h, B, n_outputs) -> (B, h, n_outputs)


@register_model("TCN", category="recurrent", capabilities=("multi_step", "batch_processing", "exogenous"))
class TCN(WindowForecaster):
    """Temporal convolution network: causal dilated convolutions with an MLP decoder.

    The encoder stacks one causal convolution per dilation (kernel `kernel_size`, channels
    `encoder_hidden_size`), so with dilations 1, 2, 4, ... its receptive field grows
    exponentially. It reads the window of y with the historical, static and the input part of
    the future exogenous values; a Linear over time (the context adapter, input_size -> h) maps
    its states to the horizon, where they are joined with the horizon's future exogenous and
    decoded step by step by one shared MLP (direct multi-step forecasting).

    Args:
        input_size: window length L; -1 (default) uses 3 * h.
        kernel_size: taps of each causal convolution.
        dilations: one convolution layer per dilation (spacing between its taps).
        encoder_hidden_size: channels of every convolution layer.
        encoder_activation: activation after each convolution (a PyTorch class name, e.g. ReLU).
        context_size: kept for neuralforecast compatibility; unused there too (the context adapter maps input_size -> h).
        decoder_hidden_size: units of the MLP decoder's hidden layers.
        decoder_layers: Linear layers of the MLP decoder (input and output layers included).

    References:
        van den Oord, A., Dieleman, S., Zen, H., Simonyan, K., Vinyals, O., Graves, A.,
        Kalchbrenner, N., Senior, A., Kavukcuoglu, K. (2016). "WaveNet: A Generative Model for
        Raw Audio". arXiv:1609.03499.
        Bai, S., Kolter, J. Z., Koltun, V. (2018). "An Empirical Evaluation of Generic
        Convolutional and Recurrent Networks for Sequence Modeling". arXiv:1803.01271.
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "kernel_size": {"minimum": 1},
        "dilations": {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
        "encoder_hidden_size": {"minimum": 1},
        "decoder_hidden_size": {"minimum": 1},
        "decoder_layers": {"minimum": 2},
    }

    def __init__(
        self, h: int, input_size: int = -1, kernel_size: int = 2, dilations: tuple[int, ...] = (1, 2, 4, 8, 16),
        encoder_hidden_size: int = 128, encoder_activation: ActivationName = "ReLU", context_size: int = 10,
        decoder_hidden_size: int = 128, decoder_layers: int = 2, loss: LossSpec = "mae", max_steps: int = 1000,
        learning_rate: float = 1e-3, num_lr_decays: int = -1, early_stop_patience_steps: int = -1,
        val_check_steps: int = 100, batch_size: int = 32, windows_batch_size: int = 128,
        inference_windows_batch_size: int = 1024, step_size: int = 1, start_padding_enabled: bool = False,
        scaler_type: ScalerSpec = "robust", random_seed: int = 1, gradient_clip_val: float | None = None,
        optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
        futr_exog_list: tuple[str, ...] | None = None, hist_exog_list: tuple[str, ...] | None = None,
        stat_exog_list: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
            futr_exog_list=futr_exog_list, hist_exog_list=hist_exog_list, stat_exog_list=stat_exog_list,
        )
        self.kernel_size, self.dilations = kernel_size, tuple(dilations)
        self.encoder_hidden_size, self.encoder_activation = encoder_hidden_size, encoder_activation
        self.context_size = context_size
        self.decoder_hidden_size, self.decoder_layers = decoder_hidden_size, decoder_layers

    def _build_network(self) -> nn.Module:
        return _TCNNetwork(
            n_inputs=1 + self.hist_exog_size + self.stat_exog_size + self.futr_exog_size, h=self.h,
            input_size=self.input_size, futr_size=self.futr_exog_size, n_outputs=self.loss.outputsize_multiplier,
            kernel_size=self.kernel_size, dilations=self.dilations, encoder_hidden_size=self.encoder_hidden_size,
            encoder_activation=self.encoder_activation, decoder_hidden_size=self.decoder_hidden_size,
            decoder_layers=self.decoder_layers,
        )
