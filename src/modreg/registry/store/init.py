"""`modreg init`: the files of a new, empty registry."""

from __future__ import annotations

from pathlib import Path

from modreg.errors import Conflict
from modreg._fs import write_atomic
from modreg.registry.store.layout import CONFIG_NAME, RegistryPaths

DEFAULT_CONFIG = """\
# modreg registry configuration: the policy every descriptor is validated against.
schema_version = 1

[validation]
# Fields every model descriptor must have, beyond the schema's own required ones.
required_fields = ["summary", "authors"]
summary_max_length = 120
description_max_length = 5000
max_tags = 20
# allowed_tags = ["energy", "retail"]   # uncomment to restrict tags to a list

[history]
max_history = 50

[plugins]
security = "checksum"   # none | checksum | signature
directories = ["plugins"]
trusted_authors = []
allowed_capabilities = []   # empty: any capability
"""

GITATTRIBUTES = """\
audit.jsonl merge=union
index/** linguist-generated=true merge=modreg-generated
reports/** linguist-generated=true merge=modreg-generated
"""

GITIGNORE = """\
.modreg/
"""


def init_registry(root: Path) -> RegistryPaths:
    """Create a registry at `root`. Refuses (Conflict) when one is already there.

    A `.gitignore` or `.gitattributes` already in the folder keeps every line it has; only
    modreg's missing lines are added.
    """
    paths = RegistryPaths(root.resolve())
    if paths.config.exists():
        raise Conflict(
            f"{paths.root} is already a modreg registry.",
            hint=f"edit {CONFIG_NAME} there, or choose another folder.",
            path=paths.config,
        )
    for folder in (paths.models, paths.plugins, paths.templates):
        folder.mkdir(parents=True, exist_ok=True)
    add_missing_lines(paths.root / ".gitattributes", GITATTRIBUTES)
    add_missing_lines(paths.root / ".gitignore", GITIGNORE)
    write_atomic(paths.config, DEFAULT_CONFIG, root=paths.root)
    return paths


def add_missing_lines(path: Path, wanted: str) -> bool:
    """Append to `path` the lines of `wanted` it lacks (compared without surrounding spaces);
    create it when missing. True when the file changed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    have = {line.strip() for line in text.splitlines()}
    missing = [line for line in wanted.splitlines() if line.strip() and line.strip() not in have]
    if not missing and text:
        return False
    prefix = text if not text or text.endswith("\n") else text + "\n"
    write_atomic(path, prefix + "".join(f"{line}\n" for line in missing))
    return True
