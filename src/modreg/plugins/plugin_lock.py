"""`modreg plugin lock NAME`: write the sha256 of every plugin file into its `plugin.toml`.

After a reviewed change a person locks the plugin; with `schemas` that is also when its models'
parameter schemas are taken from their `__init__` signatures (the plugin is loaded in a child process with
a timeout, as `plugin health` does) and written to `params.schema.json` in the plugin's folder, itself checksummed. Validation
then checks a descriptor's `runtime.params` for a plugin model without running plugin code.
Under `security = "signature"` the freshly changed manifest is unsigned, so no schema is taken.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.plugins.base import MANIFEST_NAME, SCHEMA_NAME
from modreg.plugins.checksums import (
    MANIFEST_LIMIT,
    plugin_files,
    read_regular,
    sha256_hex,
)
from modreg.registry.store.lock import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from modreg.registry.store.layout import RegistryPaths


__all__ = ["LockResult", "lock_plugin"]


@dataclass(frozen=True)
class LockResult:
    """What `plugin lock` wrote (or, with dry_run, would write) into plugin.toml."""

    plugin: str
    path: Path
    files: dict[str, str]
    diff: str
    written: bool
    dry_run: bool
    needs_signature: bool = False  # security = "signature": plugin.toml must be signed again

    @property
    def changed(self) -> bool:
        return bool(self.diff)

    def to_dict(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "path": self.path.as_posix(), "files": self.files, "diff": self.diff,
                "written": self.written, "dry_run": self.dry_run, "changed": self.changed,
                "needs_signature": self.needs_signature}


def lock_plugin(paths: RegistryPaths, folder: Path, *, dry_run: bool = False, lock_timeout: float = DEFAULT_TIMEOUT,
                schemas: bool = False) -> LockResult:
    """Write the sha256 of every file into the `[files]` table of `folder/plugin.toml`.

    Keeps the manifest's comments and layout (only `[files]` changes), holds the registry
    lock, writes atomically and appends to the audit log.
    """
    from modreg.registry.checks.config import load_config
    from modreg.registry.store.lock import registry_lock

    signed = load_config(paths).plugin_security == "signature"
    with registry_lock(paths, lock_timeout):
        result = _lock(paths, folder, dry_run)
        if schemas and not dry_run and not signed and _write_param_schemas(paths, folder):
            result = _lock(paths, folder, dry_run)  # the schema file is a plugin file: lock it too
        return replace(result, needs_signature=signed)


def _write_param_schemas(paths: RegistryPaths, folder: Path) -> bool:
    """Load the (just locked) plugin in a child process, as `plugin health` does, and write its
    models' parameter schemas; True when the file changed. A plugin that does not load keeps its
    old schemas (`plugin health` says why)."""
    import json

    from modreg._fs import write_atomic
    from modreg._isolation import safe_sys_path
    from modreg.plugins.health import DEFAULT_TIMEOUT, run_child

    request = {"sys_path": safe_sys_path([paths.root]), "kind": "registry", "root": str(paths.root),
               "folder": str(folder), "schemas_only": True}
    outcome = run_child(request, DEFAULT_TIMEOUT)
    if outcome is None or not outcome.get("ok") or not isinstance(outcome.get("schemas"), dict):
        return False
    models = {name: {"params": schema} for name, schema in sorted(outcome["schemas"].items())}
    text = json.dumps({"models": models}, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    target = folder / SCHEMA_NAME
    if _holds(folder, target, text):
        return False
    write_atomic(target, text, root=folder)
    return True


def _holds(folder: Path, target: Path, text: str) -> bool:
    """Whether `target` is a plain file of the plugin holding exactly `text` (a link or a pipe
    there is never read; `write_atomic` then refuses the link or replaces the pipe)."""
    from modreg._fs import read_inside
    from modreg.errors import ModregError

    expected = text.encode("utf-8")
    try:
        return read_inside(folder, target, len(expected)) == expected
    except (ModregError, OSError):
        return False


def _lock(paths: RegistryPaths, folder: Path, dry_run: bool) -> LockResult:
    import difflib

    from modreg.plugins.manifest import MANIFEST_ORDER
    from modreg.registry.store.edits import apply_changes
    from modreg.registry.store.files import parse_text

    plugin, path = folder.name, folder / MANIFEST_NAME
    doc = parse_text(read_regular(path, plugin, MANIFEST_NAME, MANIFEST_LIMIT).decode("utf-8"), path, "toml")
    files = {rel: sha256_hex(read_regular(folder / rel, plugin, rel)) for rel in plugin_files(folder, plugin)}
    text = apply_changes(doc.text, "toml", doc.data, {**doc.data, "files": files}, MANIFEST_ORDER)
    relative = path.relative_to(paths.root).as_posix()
    diff = "".join(difflib.unified_diff(doc.text.splitlines(True), text.splitlines(True), f"a/{relative}", f"b/{relative}"))
    written = bool(diff) and not dry_run
    if written:
        _write(paths, path, text, plugin, doc.data.get("version"), len(files))
    return LockResult(plugin, path, files, diff, written, dry_run)


def _write(paths: RegistryPaths, path: Path, text: str, plugin: str, version: Any, count: int) -> None:
    from modreg._fs import write_atomic
    from modreg.registry.store.audit import append_audit, make_entry

    write_atomic(path, text, root=paths.root)
    version = version if isinstance(version, str) else None
    append_audit(paths, make_entry("plugin lock", plugin, {"files": f"{count} files locked"}, version))
