"""The registry's plugin policy (`[plugins]` in modreg.toml) and the running modreg's version.

- `min_runtime_version`: a plugin that needs a newer modreg is refused, naming both versions;
- `trusted_authors` (when not empty, at security checksum or signature): one of the plugin's
  authors must be listed, matched by the whole `Name <email>` or by the email alone;
- `allowed_capabilities` (when not empty): every capability the plugin or its models declare
  must be in the list;
- `allowed_signers`: the allowed-signers file for `security = "signature"`, relative to the root.

All of these read only the manifest: no plugin code runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from modreg.plugins.base import PluginRefused

if TYPE_CHECKING:
    from modreg.plugins.manifest import Manifest
    from modreg.registry.checks.config import RegistryConfig

__all__ = ["allowed_signers", "check_policy", "check_runtime_version"]


def allowed_signers(config: RegistryConfig) -> Path | None:
    """The allowed-signers file named by modreg.toml, resolved against the registry root.

    A relative one must not be (or lie behind) a link: a cloned `allowed_signers -> ~/.ssh/...`
    would hand a file outside the registry to ssh-keygen (IntegrityError, exit 5)."""
    if config.allowed_signers is None:
        return None
    path = Path(config.allowed_signers)
    if path.is_absolute() or config.root is None:
        return path
    from modreg._fs import refuse_links

    refuse_links(config.root, config.root / path)
    return config.root / path


def check_runtime_version(manifest: Manifest) -> None:
    """PluginRefused when the plugin needs a newer modreg than this one."""
    from modreg._version import __version__, install_hint
    from modreg.registry.store.versions import Version

    needed = manifest.min_runtime_version
    if needed is not None and Version.parse(needed) > Version.parse(__version__):
        raise PluginRefused(manifest.name, f"it needs modreg {needed} or newer, and this is modreg {__version__}.",
                            path=manifest.path, line=manifest.line_of("min_runtime_version"),
                            hint=f"upgrade modreg (`{install_hint()}`), or use a version of the plugin made for this one.")


def check_policy(manifest: Manifest, config: RegistryConfig) -> None:
    """PluginRefused when no author is trusted or a capability is not allowed (see the module docstring)."""
    trusted = config.trusted_authors
    if trusted and config.plugin_security != "none" and not _is_trusted(manifest.authors, trusted):
        raise PluginRefused(manifest.name, f"none of its authors ({', '.join(manifest.authors) or 'none listed'}) "
                            "is in trusted_authors.", path=manifest.path, line=manifest.line_of("authors"),
                            hint="review the plugin, then add its author to [plugins] trusted_authors in modreg.toml.")
    if config.allowed_capabilities:
        _check_capabilities(manifest, config.allowed_capabilities)


def _check_capabilities(manifest: Manifest, allowed: tuple[str, ...]) -> None:
    declared = [(("capabilities", i), c) for i, c in enumerate(manifest.capabilities)]
    declared += [(("models", m, "capabilities", i), c) for m, model in enumerate(manifest.models)
                 for i, c in enumerate(model.capabilities)]
    for at, capability in declared:
        if capability not in allowed:
            raise PluginRefused(manifest.name, f"the capability `{capability}` is not allowed by modreg.toml.",
                                path=manifest.path, line=manifest.line_of(*at),
                                hint=f"allowed: {', '.join(allowed)} ([plugins] allowed_capabilities).")


def _is_trusted(authors: tuple[str, ...], trusted: tuple[str, ...]) -> bool:
    from modreg.plugins.signature import author_identity

    identities = {author_identity(t) for t in trusted} - {None}
    return any(a in trusted or author_identity(a) in identities for a in authors)
