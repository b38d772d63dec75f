"""The memory budget: sizes from the environment, the default, and the refusal's sentence."""

from __future__ import annotations

import pytest

from modreg.errors import ExitCode, UsageError
from modreg.runtime import memory


@pytest.mark.parametrize(("text", "size"), [("1000", 1000), ("512M", 512 * 1024**2), ("8G", 8 * 1024**3),
                                            ("1.5t", int(1.5 * 1024**4)), ("2GiB", 2 * 1024**3), ("64 kb", 65536)])
def test_sizes_parse(text: str, size: int) -> None:
    assert memory.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0", "8X", "G"])
def test_bad_sizes_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        memory.parse_size(text)


def test_a_share_of_physical_memory() -> None:
    assert 0 < memory.parse_size("50%") <= memory.parse_size("100%")


def test_the_default_is_at_least_the_floor_unless_an_address_limit_says_less(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(memory.ENV_VAR, raising=False)
    monkeypatch.setattr(memory, "_address_space_left", lambda: None)
    assert memory.budget() >= memory.DEFAULT_FLOOR
    monkeypatch.setattr(memory, "_address_space_left", lambda: 1024**3)
    assert memory.budget() == 1024**3


def test_check_refuses_with_the_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(memory.ENV_VAR, "1G")
    memory.check(1024**3, "Loading x", "use less")
    with pytest.raises(UsageError) as caught:
        memory.check(3 * 1024**3, "Loading x", "use less")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "Loading x would need about 3 GiB of memory, more than the budget of 1 GiB" in caught.value.message
    assert "MODREG_MEMORY_BUDGET=3G" in (caught.value.hint or "")
