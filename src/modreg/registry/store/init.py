"""`modreg init`: the files of a new, empty registry."""

from __future__ import annotations

from pathlib import Path

from modreg.errors import Conflict
from modreg._fs import read_inside, write_atomic
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
plugins/** -text
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
    for name in (".gitattributes", ".gitignore"):  # a refused one stops init before anything is made
        read_inside(paths.root, paths.root / name, _SETTINGS_LIMIT)
    for folder in (paths.models, paths.plugins, paths.templates):
        folder.mkdir(parents=True, exist_ok=True)
    add_missing_lines(paths.root / ".gitattributes", GITATTRIBUTES, paths.root)
    add_missing_lines(paths.root / ".gitignore", GITIGNORE, paths.root)
    write_atomic(paths.config, DEFAULT_CONFIG, root=paths.root)
    return paths


def add_missing_lines(path: Path, wanted: str, root: Path) -> bool:
    """Append to `path`, a file of the registry at `root`, the lines of `wanted` it lacks
    (compared without surrounding spaces); create it when missing. True when the file changed.
    A link or an outsized file there is refused (`read_inside`), never followed."""
    data = read_inside(root, path, _SETTINGS_LIMIT)
    text = "" if data is None else data.decode("utf-8", errors="replace")
    have = {line.strip() for line in text.splitlines()}
    missing = [line for line in wanted.splitlines() if line.strip() and line.strip() not in have]
    if not missing and text:
        return False
    prefix = text if not text or text.endswith("\n") else text + "\n"
    write_atomic(path, prefix + "".join(f"{line}\n" for line in missing), root=root)
    return True


_SETTINGS_LIMIT = 1 << 20  # a .gitattributes or .gitignore of more than 1 MiB is not one modreg should edit
