"""`Module`, `Parameter`, `ModuleList` and `Sequential`: PyTorch's container semantics in numpy.

Attributes holding a `Parameter`, a `Module` or a registered buffer (a plain ndarray such as
BatchNorm's running mean) are tracked in assignment order, so `state_dict()` keys read like
PyTorch's (`layers.0.weight`) and parameter counts match it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from modreg.errors import IntegrityError
from modreg.runtime.autograd.tensor import Tensor

__all__ = ["LoadResult", "Module", "ModuleList", "Parameter", "Sequential"]


class Parameter(Tensor):
    """A Tensor that a Module registers as a trainable weight (requires_grad=True)."""

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


@dataclass(frozen=True)
class LoadResult:
    """Keys `load_state_dict(strict=False)` skipped."""

    missing_keys: tuple[str, ...]
    unexpected_keys: tuple[str, ...]


class Module:
    """Base class of every layer and network: subclasses set attributes in `__init__`.

    `__call__` runs `forward`. `training` is True until `eval()`.

    A network sets `independent_rows = True` when, while training, each batch row's output
    depends on that row alone (no dropout, no batch statistics, no mixing across rows): the
    training loop then merges identical windows into one weighted row (`windows.merge_duplicates`).
    """

    independent_rows: bool = False

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            name_ = type(self).__name__
            raise AttributeError(f"{name_}.__init__ must call super().__init__() first")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """Track a non-trainable array (saved in `state_dict`, converted by `to_dtype`)."""
        self._buffers[name] = None
        object.__setattr__(self, name, value)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----- Traversal -----
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, with dotted names ("" for self)."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def children(self) -> list[Module]:
        """The direct sub-modules, in assignment order."""
        return list(self._modules.values())

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, each shared parameter once."""
        seen: set[int] = set()
        out: list[tuple[str, Parameter]] = []
        for prefix, module in self.named_modules():
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((f"{prefix}.{name}" if prefix else name, p))
        return out

    def parameters(self) -> list[Parameter]:
        """Every parameter (a list, in registration order)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of trainable scalars, as PyTorch counts them."""
        return sum(p.size for p in self.parameters() if p.requires_grad)

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (PyTorch's set_to_none)."""
        for p in self.parameters():
            p.grad = None

    # ----- Modes and dtype -----
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and its descendants."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (Dropout off, BatchNorm uses running statistics)."""
        return self.train(False)

    def to_dtype(self, dtype: Any) -> Module:
        """Convert every parameter and floating buffer to `dtype` (np.float32 or np.float64)."""
        for _, module in self.named_modules():
            for p in module._parameters.values():
                p.data, p.grad = p.data.astype(dtype, copy=False), None
            for name in module._buffers:
                value = getattr(module, name)
                if value.dtype.kind == "f":
                    object.__setattr__(module, name, value.astype(dtype, copy=False))
        return self

    # ----- State -----
    def _slots(self) -> dict[str, tuple[Module, str]]:
        slots: dict[str, tuple[Module, str]] = {}
        for prefix, module in self.named_modules():
            for name in [*module._parameters, *module._buffers]:
                slots[f"{prefix}.{name}" if prefix else name] = (module, name)
        return slots

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter and buffer, keyed by dotted name like PyTorch."""
        out: dict[str, np.ndarray] = {}
        for key, (module, name) in self._slots().items():
            value = getattr(module, name)
            out[key] = np.array(value.data if isinstance(value, Tensor) else value)
        return out

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> LoadResult:
        """Copy arrays into the parameters and buffers of the same names.

        Raises:
            IntegrityError: a shape differs, or (strict) keys are missing or unexpected.
        """
        slots = self._slots()
        missing = tuple(k for k in slots if k not in state)
        unexpected = tuple(k for k in state if k not in slots)
        wrong = [_shape_problem(k, slots[k], state[k]) for k in slots if k in state]
        problems = [p for p in wrong if p]
        if strict:
            keys = [*(f"missing key {k}" for k in missing), *(f"unexpected key {k}" for k in unexpected)]
            problems = keys + problems
        if problems:
            raise IntegrityError(
                f"The weights do not fit {type(self).__name__}: {'; '.join(problems)}.",
                hint="load weights saved from a model built with the same hyperparameters",
            )
        for key, (module, name) in slots.items():
            if key in state:
                _assign(module, name, state[key])
        return LoadResult(missing, unexpected)


def _current(slot: tuple[Module, str]) -> np.ndarray:
    value = getattr(slot[0], slot[1])
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _shape_problem(key: str, slot: tuple[Module, str], value: np.ndarray) -> str:
    expected = _current(slot).shape
    got = np.shape(value)
    return "" if expected == got else f"shape of {key} is {got}, expected {expected}"


def _assign(module: Module, name: str, value: np.ndarray) -> None:
    current = getattr(module, name)
    if isinstance(current, Tensor):
        current.data = np.array(value, dtype=current.dtype)
        current.grad = None
    else:
        object.__setattr__(module, name, np.array(value, dtype=np.asarray(current).dtype))


class ModuleList(Module):
    """A list of modules registered as `0`, `1`, ... (PyTorch's nn.ModuleList)."""

    def __init__(self, modules: Any = ()) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        setattr(self, str(len(self._modules)), module)
        return self

    def extend(self, modules: Any) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


class Sequential(ModuleList):
    """Modules applied one after the other (PyTorch's nn.Sequential)."""

    def __init__(self, *modules: Module) -> None:
        super().__init__(modules)

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x
