"""Detached SSH signatures of `plugin.toml`, verified the way git verifies signed commits.

With `security = "signature"` in `modreg.toml`, a plugin folder holds `plugin.toml.sig`, made
by one of its authors:

    ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n modreg-plugin plugin.toml

and the registry names an allowed-signers file (`[plugins] allowed_signers`), one line per
trusted key, the principal being the author's email:

    forecast@example.org namespaces="modreg-plugin" ssh-ed25519 AAAAC3Nza...

Each author's email is tried as the identity of

    ssh-keygen -Y verify -f allowed_signers -I <email> -n modreg-plugin -s plugin.toml.sig < plugin.toml

with the manifest bytes modreg read (the same bytes it then parses). The manifest pins every
file's sha256, so a verified signature covers the whole plugin.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from modreg.plugins.base import MANIFEST_NAME, SIGNATURE_NAME, SIGNATURE_NAMESPACE, PluginIntegrityError, PluginRefused
from modreg.plugins.checksums import MANIFEST_LIMIT, read_regular

__all__ = ["author_identity", "verify_signature"]

_EMAIL = re.compile(r"<([^<>\s]+)>")
_SIGN_HINT = (f"sign it: `ssh-keygen -Y sign -f KEY -n {SIGNATURE_NAMESPACE} {MANIFEST_NAME}` (again after every change, "
              "including `plugin lock`), with a key listed for an author's email in the allowed-signers file.")


def author_identity(author: str) -> str | None:
    """The principal of an author: the email in `Name <email>`, else the author if it is one word."""
    match = _EMAIL.search(author)
    if match:
        return match.group(1)
    return author if author and not any(c.isspace() for c in author) else None


def verify_signature(manifest: bytes, folder: Path, authors: tuple[str, ...], allowed_signers: Path | None) -> str:
    """The author identity whose key signed `manifest`; PluginIntegrityError when none did.

    Raises:
        PluginRefused: no allowed-signers file configured or found, no author identity, or no ssh-keygen.
        PluginIntegrityError: no plugin.toml.sig, or it does not verify the manifest bytes.
    """
    plugin = folder.name
    ssh_keygen = _requirements(plugin, allowed_signers, authors)
    signature = folder / SIGNATURE_NAME
    if not os.path.lexists(signature):
        raise PluginIntegrityError(plugin, f"{SIGNATURE_NAME} is missing, and this registry runs signed plugins only.",
                                   path=signature, hint=_SIGN_HINT)
    read_regular(signature, plugin, SIGNATURE_NAME, MANIFEST_LIMIT)  # a regular file, no symlink
    identities = [i for i in (author_identity(a) for a in authors) if i]
    message = ""
    for identity in identities:
        done = _ssh_keygen_verify(ssh_keygen, allowed_signers, identity, signature, manifest, plugin)
        if done.returncode == 0:
            return identity
        lines = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        message = lines[-1] if lines else ""
    raise PluginIntegrityError(
        plugin, f"{SIGNATURE_NAME} does not verify {MANIFEST_NAME} for {', '.join(identities)}"
        + (f" (ssh-keygen: {message})" if message else "") + ".",
        path=signature, hint=_SIGN_HINT,
    )


def _ssh_keygen_verify(ssh_keygen: str, allowed_signers: Path, identity: str, signature: Path, manifest: bytes,
                       plugin: str) -> subprocess.CompletedProcess[bytes]:
    command = [ssh_keygen, "-Y", "verify", "-f", str(allowed_signers), "-I", identity, "-n", SIGNATURE_NAMESPACE,
               "-s", str(signature)]
    try:
        return subprocess.run(command, input=manifest, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PluginRefused(plugin, f"ssh-keygen could not verify {SIGNATURE_NAME}: {error}.",
                            hint="check that ssh-keygen runs (OpenSSH 8.2 or newer).") from None


def _requirements(plugin: str, allowed_signers: Path | None, authors: tuple[str, ...]) -> str:
    if allowed_signers is None:
        raise PluginRefused(plugin, "security = \"signature\" needs an allowed-signers file, and modreg.toml names none.",
                            hint="add allowed_signers = \"allowed_signers\" to [plugins] in modreg.toml.")
    if not allowed_signers.is_file():
        raise PluginRefused(plugin, f"the allowed-signers file {allowed_signers} does not exist.", path=allowed_signers,
                            hint="create it: one line per key, `email namespaces=\"modreg-plugin\" ssh-ed25519 AAAA...`.")
    if not any(author_identity(a) for a in authors):
        raise PluginRefused(plugin, "its manifest names no author with an email to verify the signature for.",
                            hint="add authors = [\"Name <email>\"] to plugin.toml.")
    found = shutil.which("ssh-keygen")
    if found is None:
        raise PluginRefused(plugin, "security = \"signature\" needs ssh-keygen (OpenSSH 8.2 or newer), which is not installed.",
                            hint="install OpenSSH's client tools, or lower [plugins] security in modreg.toml.")
    return found
