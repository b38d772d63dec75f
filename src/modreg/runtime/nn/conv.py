"""Convolution layers: Conv1d, Conv2d and the left-padded CausalConv1d used by TCNs."""

from __future__ import annotations

from modreg.runtime.nn import init
from modreg.runtime.nn.module import Module, Parameter
from modreg.runtime.autograd import causal_conv, conv1d, conv2d
from modreg.runtime.autograd.ops_shape import pad
from modreg.runtime.autograd.tensor import Tensor

__all__ = ["CausalConv1d", "Conv1d", "Conv2d"]


class Conv1d(Module):
    """1-D convolution over (B, C_in, L) with PyTorch's parameters and initialisation.

    Args:
        in_channels, out_channels: C_in, C_out.
        kernel_size: K. stride, padding (zeros, both sides), dilation, groups: as PyTorch.
        bias: learn a per-channel bias.

    `weight` is (C_out, C_in/groups, K); weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    fan_in = C_in/groups * K.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
        dilation: int = 1, groups: int = 1, bias: bool = True,
    ) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"channels ({in_channels}, {out_channels}) must be divisible by groups={groups}"
            )
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        fan_in = in_channels // groups * kernel_size
        bound = init.fan_in_bound(fan_in)
        self.weight = Parameter(init.uniform((out_channels, in_channels // groups, kernel_size), bound))
        self.bias = Parameter(init.uniform((out_channels,), bound)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(Module):
    """2-D convolution with stride 1 over (B, C_in, H, W); `weight` (C_out, C_in, KH, KW).

    Args:
        in_channels, out_channels: C_in, C_out.
        kernel_size: K or (KH, KW). padding: zeros on each side, int or (ph, pw). bias: as PyTorch.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
        padding: int | tuple[int, int] = 0, bias: bool = True,
    ) -> None:
        super().__init__()
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        self.padding = padding
        bound = init.fan_in_bound(in_channels * kh * kw)
        self.weight = Parameter(init.uniform((out_channels, in_channels, kh, kw), bound))
        self.bias = Parameter(init.uniform((out_channels,), bound)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.padding)


class CausalConv1d(Module):
    """Dilated convolution that sees only the past: (K-1)*dilation zeros on the left only.

    Args:
        in_channels, out_channels: C_in, C_out. kernel_size: K. dilation: spacing of the taps.
        groups, bias: as Conv1d.

    Shapes: (B, C_in, L) -> (B, C_out, L); output t depends on inputs <= t. The weights live in
    `conv` (`conv.weight`, `conv.bias`), as in neuralforecast's CausalConv1d. `time_major` is the
    same layer on (L, B, C_in) -> (L, B, C_out), optionally fused with a ReLU (`causal_conv`).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1,
        groups: int = 1, bias: bool = True,
    ) -> None:
        super().__init__()
        self.left = (kernel_size - 1) * dilation
        self.conv = Conv1d(
            in_channels, out_channels, kernel_size, dilation=dilation, groups=groups, bias=bias
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(pad(x, ((0, 0), (0, 0), (self.left, 0))) if self.left else x)

    def time_major(self, x: Tensor, relu: bool = False) -> Tensor:
        """The convolution of x (L, B, C_in) -> (L, B, C_out), then max(., 0) if `relu` (groups=1)."""
        if self.conv.groups != 1:
            raise ValueError("CausalConv1d.time_major needs groups=1")
        return causal_conv(x, self.conv.weight, self.conv.bias, self.conv.dilation, relu)
