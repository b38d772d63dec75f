"""Integers that text can spell but Python cannot print.

CPython refuses to convert integers of more than 4,300 decimal digits to or from text
(`sys.get_int_max_str_digits`). A decimal literal that long fails while it is parsed, but a
hexadecimal, octal or binary one (`0xfff…` in TOML or YAML) parses fine and fails later,
when it is printed or written to JSON. Readers refuse both by size with `too_long_integer`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_INTEGER_BITS", "too_long_integer"]

MAX_INTEGER_BITS = 14_000
"""At most this many bits (10**4300 needs 14,285), so that every accepted integer prints."""


def too_long_integer(value: Any) -> bool:
    """Whether `value` holds (at any depth of lists and tables) an integer too long to print."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool) and item.bit_length() > MAX_INTEGER_BITS:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
