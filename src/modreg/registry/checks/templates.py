"""Runtime templates: `templates/<name>.toml`, reusable parameter sets for `modreg run`.

A template holds `name`, `summary`, optionally the `model` it is for and a `precision`, and a
`[params]` table. Parameters merge as template < descriptor `runtime.params` < `--param`.
Reading templates never imports numpy: they are registry files, checked against the shipped
`template` schema (their parameters are checked against the model's schema when used).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modreg.errors import NotFound, UsageError
from modreg.registry.store.files import read_document
from modreg.registry.store.layout import RegistryPaths

__all__ = ["Template", "get_template", "load_templates"]


@dataclass(frozen=True)
class Template:
    """One template file."""

    name: str
    path: Path
    summary: str = ""
    model: str | None = None
    precision: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path.as_posix(), "summary": self.summary, "model": self.model,
                "precision": self.precision, "params": self.params}


def load_template(path: Path) -> Template:
    """Read and check one template file.

    Raises:
        UsageError: unreadable, or not valid against the template schema (file and line given).
    """
    from modreg.registry.checks._schemacheck import schema_problems

    doc = read_document(path)
    problems = schema_problems("template", doc.data, doc)
    if problems:
        first = problems[0]
        raise UsageError(first.message, hint=first.hint, path=path, line=first.line, col=first.col)
    data = doc.data
    if data["name"] != path.stem:
        raise UsageError(f"template name `{data['name']}` differs from its file name `{path.stem}`.",
                         hint=f"rename the file to {data['name']}.toml or set name = \"{path.stem}\".", path=path, line=1)
    return Template(name=data["name"], path=path, summary=data.get("summary", ""), model=data.get("model"),
                    precision=data.get("precision"), params=dict(data.get("params", {})))


def load_templates(paths: RegistryPaths) -> dict[str, Template]:
    """Every template of the registry, by name (sorted)."""
    return {path.stem: load_template(path) for path in paths.template_files()}


def get_template(paths: RegistryPaths, name: str) -> Template:
    """The template `name` (NotFound with the available names and a did-you-mean). A name is a
    file stem inside templates/, never a path: `../x` or `/etc/x` finds nothing."""
    names = [p.stem for p in paths.template_files()]
    if name in names:  # a link or a pipe by that name is refused by name when read (exit 5), never followed
        return load_template(paths.templates / f"{name}.toml")
    close = difflib.get_close_matches(name, names, n=1)
    mean = f"did you mean `{close[0]}`? " if close else ""
    raise NotFound(f"No template named `{name}` in {paths.templates}.",
                   hint=f"{mean}available: {', '.join(names) or '(none)'}; run `modreg templates` to list them.")
