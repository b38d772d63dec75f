"""Plugins: runtime models from outside the package, verified before any of their code runs.

Two kinds of plugin provide more runtime models:

- a **registry plugin**, a folder `plugins/<name>/` of the registry holding `plugin.toml` (the
  manifest: name, version, authors, `min_runtime_version`, the models it provides and a
  sha256 for every file) and the plugin's Python files. `loader` checks the manifest, the
  registry's policy (`[plugins]` in `modreg.toml`), the optional SSH signature and every
  file's checksum, then runs exactly the bytes it hashed, from memory;
- an **installed plugin**, a distribution declaring entry points in the group
  `modreg.models.v1` (`entrypoints`), imported lazily the first time one of its models is
  needed.

Modules: `base` (the contract and the errors), `manifest`, `checksums`, `signature`,
`policy`, `finder` (the in-memory importer), `loader`, `entrypoints`, `inventory` (list and
verify), `health` (+ `health_child`), `discover`. Importing this package imports none of them, and
nothing here imports numpy until a plugin's code runs. It does tell validation where installed
plugins' models come from (`add_model_source`): the registry layer never imports the plugins,
so whatever imports them (the API, or a caller of `discover` directly) makes entry-point models
known to `validate`.
"""

from __future__ import annotations

from collections.abc import Mapping

from modreg.registry.checks.model_sources import add_model_source

__all__: list[str] = []


def _installed_models() -> Mapping[str, str]:
    from modreg.plugins.entrypoints import entry_point_models

    return entry_point_models()


add_model_source(_installed_models)
