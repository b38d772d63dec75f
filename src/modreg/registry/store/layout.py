"""Where a registry lives and where its files are.

The root is found the way git finds its own: `--registry PATH`, else `$MODREG_REGISTRY`, else
the nearest folder upwards from the working directory that holds a `modreg.toml`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from modreg.errors import NotFound

CONFIG_NAME = "modreg.toml"
ENV_VAR = "MODREG_REGISTRY"
DESCRIPTOR_SUFFIXES = (".toml", ".yaml", ".yml")


@dataclass(frozen=True)
class RegistryPaths:
    """The paths of one registry's folders and files."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def plugins(self) -> Path:
        return self.root / "plugins"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def index(self) -> Path:
        return self.root / "index"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def audit_log(self) -> Path:
        return self.root / "audit.jsonl"

    @property
    def cache(self) -> Path:
        return self.root / ".modreg"

    @property
    def lock_file(self) -> Path:
        return self.cache / "lock"

    @property
    def trash(self) -> Path:
        return self.cache / "trash"

    def descriptor_files(self) -> list[Path]:
        """Every descriptor file under models/, sorted by name for stable output. A link or a
        special file (a pipe, a device) with a descriptor's name is listed too, so that reading
        it refuses it by name instead of leaving it out unseen."""
        if not self.models.is_dir():
            return []
        return sorted((p for p in self.models.iterdir() if p.suffix in DESCRIPTOR_SUFFIXES and not _is_folder(p)),
                      key=lambda p: p.name)

    def descriptor_path(self, name: str) -> Path | None:
        """The file of the entry `name`, if one exists (any supported suffix; a link or a
        special file counts, and reading it refuses it)."""
        for suffix in DESCRIPTOR_SUFFIXES:
            candidate = self.models / f"{name}{suffix}"
            if os.path.lexists(candidate) and not _is_folder(candidate):
                return candidate
        return None

    def template_files(self) -> list[Path]:
        """Every templates/*.toml, sorted (links and special files too, as in `descriptor_files`)."""
        if not self.templates.is_dir():
            return []
        return sorted(p for p in self.templates.iterdir() if p.suffix == ".toml" and not _is_folder(p))


def _is_folder(path: Path) -> bool:
    """A real folder (not a link to one)."""
    return path.is_dir() and not path.is_symlink()


def find_root(explicit: str | Path | None = None, *, cwd: Path | None = None) -> RegistryPaths:
    """Locate the registry root: explicit path, then $MODREG_REGISTRY, then upwards from cwd.

    Raises:
        NotFound: no registry is there (with a hint to run `modreg init`).
    """
    for given, source in ((explicit, "--registry"), (os.environ.get(ENV_VAR) or None, f"${ENV_VAR}")):
        if given is not None:
            root = Path(given).expanduser()
            _refuse_special_config(root / CONFIG_NAME)
            if not (root / CONFIG_NAME).is_file():
                raise NotFound(
                    f"{root} is not a modreg registry (no {CONFIG_NAME}), given by {source}.",
                    hint=f"run `modreg init {root}` to create one, or point {source} at a registry.",
                    path=root,
                )
            return _checked(RegistryPaths(root.resolve()))
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        _refuse_special_config(folder / CONFIG_NAME)
        if (folder / CONFIG_NAME).is_file():
            return _checked(RegistryPaths(folder))
    raise NotFound(
        f"No modreg registry found in {start} or any folder above it.",
        hint=f"run `modreg init`, pass --registry PATH, or set ${ENV_VAR}.",
    )


def _refuse_special_config(config: Path) -> None:
    """IntegrityError when a modreg.toml is there but is not a file (a pipe, a device behind a
    link): it marks a registry that modreg cannot read, which is not the same as no registry."""
    if os.path.lexists(config) and not config.is_file() and not config.is_dir():
        from modreg.errors import IntegrityError

        raise IntegrityError(f"{config} is not a plain file.", hint="replace it with the registry's TOML configuration.",
                             path=config)


def _checked(paths: RegistryPaths) -> RegistryPaths:
    """`paths`, once none of the folders modreg reads descriptors, templates and plugins from is
    a link: a cloned `models -> /somewhere` would have every command read files outside the
    registry (IntegrityError, exit 5, naming the link)."""
    from modreg._fs import refuse_links

    for folder in (paths.models, paths.templates, paths.plugins):
        refuse_links(paths.root, folder)
    return paths
