"""One value typed on the command line, read as TOML, as a descriptor would spell it.

`modreg update --set key=VALUE` and `modreg run/bench --param key=VALUE` both read VALUE here,
so that `--param max_steps=200` means what `max_steps = 200` means in a descriptor: `12`,
`1.5`, `true`, `"text"`, `[1, 2]`, `{type = "huber"}` and dates are TOML values; a bare word
(`mae`) stays text; something that starts like a string, list or table but does not parse is
an error, not text.
"""

from __future__ import annotations

import tomllib
from typing import Any

from modreg._numbers import too_long_integer
from modreg.errors import UsageError

__all__ = ["toml_value"]


def toml_value(text: str, option: str) -> Any:
    """`text` as a TOML value, or as itself when it is a bare word.

    Raises:
        UsageError: naming `option` (e.g. `--param loss`), for malformed TOML, a value that nests
            too deeply, or an integer too long to print.
    """
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except RecursionError:
        raise UsageError(f"{option}: the value nests too deeply.", hint="descriptors need only a few levels of lists and tables.") from None
    except tomllib.TOMLDecodeError:
        if text[:1] in "[{\"'":
            raise UsageError(f"{option}: `{text}` is not a valid TOML value.", hint="quote text as '\"...\"'; lists as [1, 2].") from None
        return text
    except ValueError:  # int() of a decimal number over 4,300 digits
        value = None
    if value is None or too_long_integer(value):  # 0x…, 0o…, 0b… parse, but could not be printed
        raise UsageError(f"{option}: the number is too long ({len(text):,} characters; integers have at most 4,300 digits).",
                         hint="quote it to set it as text, e.g. 'key=\"...\"'.")
    return value
