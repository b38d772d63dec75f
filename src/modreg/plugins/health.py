"""`modreg plugin health [NAME]`: each plugin tried in a child process with a timeout.

For every plugin (or the one named), a fresh interpreter (`python -m
modreg.plugins.health_child`, in its own process group) verifies and imports the plugin, builds
each model, fits it on a small real series and predicts. A plugin that hangs, at import or in
`fit`, is killed with its whole process group when the timeout runs out; one that crashes the
interpreter is reported with the end of its stderr. Nothing a plugin does in the child can
affect modreg itself or the other plugins.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg._isolation import python_module_command, safe_sys_path
from modreg.errors import CheckFailed, ExitCode, ModregError

if TYPE_CHECKING:
    from modreg.registry.store.layout import RegistryPaths

__all__ = ["DEFAULT_TIMEOUT", "HealthReport", "ModelHealth", "check_health"]

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ModelHealth:
    """One model's try: built, fitted and forecast (ok), or the error."""

    name: str
    ok: bool
    error: str | None = None
    fit_seconds: float | None = None
    params: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "error": self.error, "fit_seconds": self.fit_seconds,
                "params": self.params}


@dataclass(frozen=True)
class HealthReport:
    """One plugin's health: "healthy", "failed" or "timeout", its models, the error, the time."""

    plugin: str
    source: str
    status: str
    models: tuple[ModelHealth, ...] = ()
    error: ModregError | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "healthy"

    def to_dict(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "source": self.source, "status": self.status, "ok": self.ok,
                "models": [m.to_dict() for m in self.models], "seconds": round(self.seconds, 3),
                "error": self.error.to_dict() if self.error else None}


def check_health(paths: RegistryPaths | None, name: str | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT) -> list[HealthReport]:
    """Health of every plugin (registry folders, then installed distributions), or of `name`."""
    from modreg.plugins.inventory import plugin_targets

    return [_check(target, paths, timeout) for target in plugin_targets(paths, name)]


def _check(target: Any, paths: RegistryPaths | None, timeout: float) -> HealthReport:
    request: dict[str, Any] = {"sys_path": safe_sys_path([paths.root] if paths is not None else [])}
    if target.source == "registry":
        assert paths is not None
        request.update(kind="registry", root=str(paths.root), folder=str(target.folder))
    else:
        request.update(kind="entry_point", distribution=target.name)
    started = time.monotonic()
    outcome = run_child(request, timeout)
    seconds = time.monotonic() - started
    if outcome is None:
        error = CheckFailed(f"plugin `{target.name}`: its health check did not finish within {timeout:g} s, so it was killed.",
                            hint="a plugin must not block at import, fit or predict; a slow one needs a longer --timeout.")
        return HealthReport(target.name, target.source, "timeout", error=error, seconds=seconds)
    return _report(target, outcome, seconds)


def run_child(request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
    """The child's result (a dict), or None when it was killed at the timeout."""
    from modreg.plugins.health_child import MARKER

    with tempfile.TemporaryDirectory(prefix="modreg-health-") as empty:
        child = subprocess.Popen(python_module_command("modreg.plugins.health_child"), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, cwd=empty)
        try:
            out, err = child.communicate(json.dumps(request).encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            return None
    for line in reversed(out.decode("utf-8", "replace").splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {child.returncode}"]
    return {"ok": False, "models": [], "error": {"code": int(ExitCode.CHECK_FAILED), "hint": None, "path": None,
                                               "line": None, "message": f"the health check crashed: {tail[0]}"}}


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.communicate()


def _report(target: Any, outcome: dict[str, Any], seconds: float) -> HealthReport:
    models = tuple(ModelHealth(m["name"], m["ok"], m.get("error"), m.get("fit_seconds"), m.get("params"))
                   for m in outcome.get("models", []))
    error = _error(outcome["error"], target.name) if outcome.get("error") else None
    failed = [m for m in models if not m.ok]
    if error is None and failed:
        more = f" ({len(failed) - 1} more failed)" if len(failed) > 1 else ""
        error = CheckFailed(f"plugin `{target.name}`: {failed[0].name} failed its health check: {failed[0].error}{more}",
                            hint="run the model with `modreg run` and --verbose to see the traceback.")
    status = "healthy" if error is None and outcome.get("ok") else "failed"
    return HealthReport(target.name, target.source, status, models, error, seconds)


def _error(data: dict[str, Any], plugin: str) -> ModregError:
    """The child's error as a ModregError with the same exit code."""
    message = data["message"]
    if not message.startswith("plugin `"):
        message = f"plugin `{plugin}`: {message}"
    error = ModregError(message, hint=data.get("hint"), path=data.get("path") and Path(data["path"]), line=data.get("line"))
    error.exit_code = ExitCode(data.get("code", ExitCode.CHECK_FAILED))
    return error
