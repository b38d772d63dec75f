"""Git integration set up by `modreg init --git-hooks`: generated files that stay fresh after merges.

Two branches that each change a descriptor and commit a fresh `build` merge cleanly, yet the
merged statistics and summary are then stale. Two pieces make such merges need no human:

- a merge driver `modreg-generated` (declared in .gitattributes for index/ and reports/) that
  keeps our side of a generated file instead of merging it line by line, so these files never
  conflict; they are rebuilt next anyway;
- a `post-merge` hook that runs `modreg build` once the merge is committed and, when the
  generated files changed, commits them ("modreg: regenerate index and reports after merge").

A merge made elsewhere (a forge's merge button) runs no local hook: there CI runs `modreg build`
and commits, or fails on `build --check` (see the README).
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from modreg.errors import Conflict, UsageError
from modreg.registry.store.layout import RegistryPaths

__all__ = ["DRIVER", "GitSetup", "HOOK_MARKER", "setup_git"]

DRIVER = "modreg-generated"
HOOK_MARKER = "# modreg post-merge hook"


@dataclass(frozen=True)
class GitSetup:
    """What `setup_git` installed: the hook's path and the driver's name."""

    hook: Path
    driver: str


def setup_git(paths: RegistryPaths) -> GitSetup:
    """Install the merge driver (repository config) and the post-merge hook.

    Raises:
        UsageError: the registry is not inside a git work tree, or git is missing.
        Conflict: a post-merge hook that modreg did not write is already there.
    """
    top = Path(_git(paths.root, "rev-parse", "--show-toplevel").strip())
    hooks = Path(_git(top, "rev-parse", "--git-path", "hooks").strip())
    hook = (hooks if hooks.is_absolute() else top / hooks) / "post-merge"
    if hook.exists() and HOOK_MARKER not in hook.read_text(encoding="utf-8", errors="replace"):
        raise Conflict(f"{hook} exists and was not written by modreg; nothing was changed.",
                       hint="add `modreg build` and a commit of index/ and reports/ to that hook yourself.", path=hook)
    _git(top, "config", f"merge.{DRIVER}.name", "modreg: keep one side of a generated file; post-merge rebuilds it")
    _git(top, "config", f"merge.{DRIVER}.driver", "true")
    relative = paths.root.resolve().relative_to(top.resolve()).as_posix() or "."
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(_hook_script(relative), encoding="utf-8")
    hook.chmod(0o755)
    return GitSetup(hook, DRIVER)


def _hook_script(registry: str) -> str:
    quoted = shlex.quote(registry)
    return f"""#!/bin/sh
{HOOK_MARKER}: regenerate the registry's index/ and reports/ after a merge, and commit them.
# Installed by `modreg init --git-hooks`; a merge never needs a human to rebuild them.
cd "$(git rev-parse --show-toplevel)" || exit 0
command -v modreg >/dev/null 2>&1 || exit 0
modreg --quiet --registry {quoted} build || exit 0
git add -- {quoted}/index {quoted}/reports
if ! git diff --cached --quiet -- {quoted}/index {quoted}/reports; then
    git commit --no-verify --quiet -m "modreg: regenerate index and reports after merge"
fi
"""


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed, so no git hooks can be set up.", hint="install git, or leave out --git-hooks.") from None
    if done.returncode != 0:
        raise UsageError(f"The registry at {cwd} is not inside a git repository ({done.stderr.strip() or 'git failed'}).",
                         hint="run `git init` first, then `modreg init --git-hooks`.")
    return done.stdout
