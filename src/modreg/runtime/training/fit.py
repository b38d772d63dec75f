"""The fit loop: Adam (or SGD) + StepLR, gradient clipping, validation and early stopping.

It follows neuralforecast's `BaseModel` under Lightning: one optimizer step per training batch,
the learning rate halved every `max_steps // num_lr_decays` steps, validation every
`val_check_steps` steps, and early stopping after `early_stop_patience_steps` validations
without a strictly lower validation loss. Nothing is printed: a `progress(step, loss,
val_loss)` callback (the CLI's rich bar) sees every step.

Four things make a step cheaper without changing what it computes:
- Threads are chosen per product (`autograd.blas`), up to `TrainSettings.threads` (None: every
  core the process may use; a `modreg bench --jobs` worker may use one). BLAS itself rests at
  one thread (OpenBLAS's second thread spins and waits on a busy machine: measured 10 to 40
  times slower for (128 x 128) @ (128 x 512)). `linear` and 2-D `matmul` products of 4.2 M
  multiply-adds or more are split into row blocks run by the process's own threads, each block
  with its bias and ReLU (`blas.split_rows`): the same bits as one thread, both cores busy
  through the elementwise tails (NHITS at 2 threads on a machine with a load of 10: 135 CPU ms
  a step, as on one thread, where OpenBLAS's threads took 200-210). Other products of 16.8 M
  multiply-adds or more (convolutions, batched products) run on OpenBLAS's threads.
- A network whose `independent_rows` is True (each row's output depends on that row only: no
  dropout, no batch statistics) sees every distinct window of a batch once, weighted by how often
  it was drawn (`windows.merge_duplicates`): the same loss and gradient, fewer rows.
- The next batch is drawn while the optimizer's other threads update the parameters (`Adam.step`'s
  `alongside`): the draws stay in the plain loop's order (none is drawn ahead of a validation,
  which may draw too, nor after the last step), and sampling no longer leaves a core idle.
- Freed memory stays with the process (`retain_freed_memory`, glibc only). Every op makes
  new arrays of a few MB; by default glibc hands such blocks back to the kernel when they are
  freed (mmap, heap trimming), so each step page-faults its temporaries in again: measured
  here, GELU on a (1024, 24, 16) float32 array took 6.7 ms CPU instead of 1.6, a BiTCN step
  115 ms instead of 66.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modreg.errors import UsageError
from modreg.runtime.autograd.blas import ceiling
from modreg.runtime.training.optim import StepLR, clip_grad_norm, lr_decay_steps
from modreg.runtime.training.windows import merge_duplicates

if TYPE_CHECKING:
    from modreg.runtime.autograd import Tensor
    from modreg.runtime.training.losses import Loss
    from modreg.runtime.nn import Module
    from modreg.runtime.training.optim import AdamConfig, Optimizer, SGDConfig
    from modreg.runtime.training.windows import Target, WindowBatch

__all__ = ["EarlyStopping", "ProgressFn", "TrainHistory", "TrainSettings", "blas_threads", "retain_freed_memory",
           "train"]

ProgressFn = Callable[[int, float, "float | None"], None]
"""Called after every step with (step, training loss, validation loss or None)."""
Batch = tuple["WindowBatch", "Target"]
"""A training batch: the network's inputs and what they must predict."""


@dataclass(frozen=True)
class TrainSettings:
    """The model hyperparameters the loop needs."""

    max_steps: int
    learning_rate: float
    optimizer: AdamConfig | SGDConfig
    num_lr_decays: int = -1
    val_check_steps: int = 100
    early_stop_patience_steps: int = -1
    gradient_clip_val: float | None = None
    threads: int | None = None
    """The most BLAS threads a big product may use while training (None: the process's cores)."""


@dataclass
class TrainHistory:
    """What happened during a fit."""

    steps: int = 0
    rows: int = 0
    """Batch rows the network processed in all steps (fewer than drawn when windows merged)."""
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[tuple[int, float]] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0


class EarlyStopping:
    """Stop after `patience` validations without a strictly better loss (Lightning's rule)."""

    def __init__(self, patience: int) -> None:
        self.patience, self.best, self.waited = patience, math.inf, 0

    def should_stop(self, val_loss: float) -> bool:
        if val_loss < self.best:
            self.best, self.waited = val_loss, 0
            return False
        self.waited += 1
        return 0 < self.patience <= self.waited


def train(
    network: Module,
    sample: Callable[[], tuple[WindowBatch, Target]],
    loss: Loss,
    settings: TrainSettings,
    *,
    validate: Callable[[], float] | None = None,
    progress: ProgressFn | None = None,
) -> TrainHistory:
    """Run the optimisation; `sample()` gives a fresh training batch each step.

    Raises:
        UsageError: the loss became NaN or infinite (training diverged).
    """
    optimizer = settings.optimizer.create(network.parameters(), settings.learning_rate)
    decay = lr_decay_steps(settings.max_steps, settings.num_lr_decays)
    scheduler = StepLR(optimizer, decay, gamma=0.5) if decay else None
    stopper = EarlyStopping(settings.early_stop_patience_steps)
    history, started = TrainHistory(), time.perf_counter()
    network.train()
    retain_freed_memory()
    draw = functools.partial(_draw, network, sample)
    with blas_threads(settings.threads):
        upcoming: Batch | None = None
        for step in range(1, settings.max_steps + 1):
            validates = validate is not None and step % min(settings.val_check_steps, settings.max_steps) == 0
            ahead = None if validates or step == settings.max_steps else draw  # validation may draw too: keep the order
            drawn = upcoming or draw()
            value, rows, upcoming = _step(network, drawn, loss, optimizer, settings.gradient_clip_val, step, ahead)
            history.steps, history.rows, val = step, history.rows + rows, None
            history.train_loss.append(value)
            if scheduler is not None:
                scheduler.step()
            if validates and validate is not None:
                val = _validate(network, validate)
                history.val_loss.append((step, val))
                history.stopped_early = stopper.should_stop(val)
            if progress is not None:
                progress(step, value, val)
            if history.stopped_early:
                break
    network.eval()
    history.seconds = time.perf_counter() - started
    return history


def _draw(network: Module, sample: Callable[[], Batch]) -> Batch:
    """The next training batch, its repeated windows merged for a network whose rows are independent."""
    batch, target = sample()
    if getattr(network, "independent_rows", False):
        batch, target = merge_duplicates(batch, target)
    return batch, target


def _step(network: Module, drawn: Batch, loss: Loss, optimizer: Optimizer, clip: float | None, step: int,
          ahead: Callable[[], Batch] | None) -> tuple[float, int, Batch | None]:
    """One optimizer step: (the training loss, the batch rows the network processed, the next
    batch when `ahead` draws it: in the calling thread while the optimizer's other threads update
    the parameters, the same draws in the same order as after the step)."""
    batch, target = drawn
    value: Tensor = loss.train_loss(network(batch), target)
    number = value.item()
    if not math.isfinite(number):
        raise UsageError(
            f"Training diverged: the loss became {number} at step {step}.",
            hint="lower learning_rate, set gradient_clip_val, or use a scaler_type such as 'robust'.",
        )
    optimizer.zero_grad()
    value.backward()
    if clip is not None:
        clip_grad_norm(network.parameters(), clip)
    following: list[Batch] = []
    optimizer.step(alongside=None if ahead is None else lambda: following.append(ahead()))
    return number, batch.batch_size, following[0] if following else None


@contextlib.contextmanager
def blas_threads(threads: int | None) -> Iterator[None]:
    """Inside the block, products run on threads chosen by size, at most `threads` (None: the cores)."""
    with ceiling(threads):
        yield


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
_RETAINED_BYTES = 256 << 20


@functools.cache
def retain_freed_memory() -> bool:
    """Let glibc keep up to 256 MB of freed blocks for reuse, once per process; False elsewhere.

    Blocks under 256 MB come from the heap instead of fresh mmaps, and the heap is not trimmed
    back to the kernel until 256 MB lie free at its top (mallopt M_MMAP_THRESHOLD and
    M_TRIM_THRESHOLD, which glibc otherwise sets to 128 kB and adjusts on the fly).
    """
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return False
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _RETAINED_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _RETAINED_BYTES))


def _validate(network: Module, validate: Callable[[], float]) -> float:
    network.eval()
    try:
        return validate()
    finally:
        network.train()
