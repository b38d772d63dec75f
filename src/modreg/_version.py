"""The package version and the distribution's name, kept apart so that reading them imports nothing else.

The distribution is `modreg-forecast` on PyPI (the name `modreg` belongs to another project);
the command and the import package are `modreg`. Install hints are built from `DISTRIBUTION`.
"""

__version__ = "0.1.0"
DISTRIBUTION = "modreg-forecast"


def install_hint(extra: str | None = None) -> str:
    """The pip command that installs modreg (with `extra`, e.g. "plot"), quoted for a shell."""
    return f"pip install '{DISTRIBUTION}[{extra}]'" if extra else f"pip install -U {DISTRIBUTION}"
