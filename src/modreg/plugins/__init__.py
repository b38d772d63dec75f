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
nothing here imports numpy until a plugin's code runs.
"""

from __future__ import annotations

__all__: list[str] = []
