"""The memory budget: what one run or model load may allocate, checked before allocating.

A hostile descriptor or model file can ask for more memory than the machine has (`--horizon
1000000000`, `hidden_size = 10000000`, a 3 MB `.npz` whose members declare 3 GiB); the kernel
then kills modreg after minutes of swapping instead of an error. Callers estimate what they are
about to allocate and `check` refuses an estimate over the budget with a UsageError (exit 2)
that gives the estimate.

The budget is `$MODREG_MEMORY_BUDGET` when set (`512M`, `8G`, `1.5T`, plain bytes, or a share
of physical memory such as `80%`), else half of physical memory but at least 2 GiB (the
estimates err high); an address-space limit (`ulimit -v`) lowers the default to what is left
under it.
"""

from __future__ import annotations

import os
import re

from modreg.errors import UsageError

__all__ = ["ENV_VAR", "DEFAULT_SHARE", "budget", "check", "human", "parse_size"]

ENV_VAR = "MODREG_MEMORY_BUDGET"
DEFAULT_SHARE = 0.5  # of physical memory
DEFAULT_FLOOR = 2 * 1024**3
_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([KMGT]?)(?:I?B)?|(%))\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from `8G`, `512MiB`, `1.5T`, `1000000` or `80%` (of physical memory)."""
    found = _SIZE.fullmatch(text)
    if found is None or float(found.group(1)) <= 0:
        raise UsageError(f"{ENV_VAR}={text!r} is not a memory size.",
                         hint=f"write e.g. {ENV_VAR}=8G, {ENV_VAR}=512M or {ENV_VAR}=80% (of physical memory).")
    number = float(found.group(1))
    if found.group(3):
        return int(_physical() * number / 100)
    return int(number * _UNITS[(found.group(2) or "").upper()])


def budget() -> int:
    """The bytes one run or load may allocate (see the module docstring)."""
    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen:
        return parse_size(chosen)
    share = max(int(_physical() * DEFAULT_SHARE), DEFAULT_FLOOR)
    headroom = _address_space_left()
    return min(share, headroom) if headroom is not None else share


def check(estimate: int, what: str, hint: str) -> None:
    """UsageError (exit 2) when `estimate` bytes exceed the budget: `what` would need about N."""
    allowed = budget()
    if estimate > allowed:
        source = f"${ENV_VAR}" if os.environ.get(ENV_VAR, "").strip() else "the default: half of physical memory, within ulimit -v"
        raise UsageError(
            f"{what} would need about {human(estimate)} of memory, more than the budget of {human(allowed)} ({source}); "
            "nothing was allocated.",
            hint=f"{hint}, or raise the budget with {ENV_VAR}=SIZE (e.g. {ENV_VAR}={_suggest(estimate)}).",
        )


def human(size: int) -> str:
    """`7.5 GiB`, `512 MiB`, `3.2e+06 TiB`: binary units, three significant digits."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} TiB" if value < 1e4 else f"{value:.2e} TiB"


def _suggest(estimate: int) -> str:
    gib = -(-estimate // 1024**3)
    return f"{gib}G" if gib < 1024 else f"{-(-gib // 1024)}T"


def _physical() -> int:
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return 8 * 1024**3  # no sysconf (Windows): assume a small machine


def _address_space_left() -> int | None:
    """What an address-space limit (RLIMIT_AS) leaves this process, or None without one."""
    try:
        import resource
    except ImportError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            used = int(handle.read().split()[0]) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        used = 0
    return max(soft - used, 0)
