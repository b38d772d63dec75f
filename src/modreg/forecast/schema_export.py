"""Generate `modreg/registry/checks/schemas/runtime_models.json`: the built-in models' parameter schemas.

`modreg validate` checks every descriptor's `runtime.model` and `runtime.params` against this
file without importing numpy or the runtime. It is generated, deterministic (sorted keys, two
space indent, one trailing newline) and kept fresh by a test; rewrite it with

    python -m modreg.forecast.schema_export

Format: {"models": {NAME: {"category", "capabilities", "class", "params": <JSON Schema>}}}.
Only built-in models are listed (plugins register theirs at run time).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from modreg.runtime.factory import list_models
from modreg.runtime.params import schema_for

__all__ = ["SCHEMA_FILE", "build_document", "main", "render", "write"]

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "registry" / "checks" / "schemas" / "runtime_models.json"


def build_document() -> dict[str, Any]:
    """{"models": {...}} for every built-in registered model."""
    models = {
        name: {
            "category": info.category,
            "capabilities": list(info.capabilities),
            "class": info.qualified_name,
            "params": schema_for(info.cls),
        }
        for name, info in list_models().items()
        if info.is_builtin
    }
    return {"models": models}


def render() -> str:
    """The file's exact text."""
    return json.dumps(build_document(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write(path: Path = SCHEMA_FILE) -> bool:
    """Rewrite the file when stale; True if it changed."""
    from modreg._fs import write_atomic

    text = render()
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    return True


def main() -> int:
    changed = write()
    print(f"{'wrote' if changed else 'unchanged:'} {SCHEMA_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
