"""Semantic versions (semver 2.0.0): parse, compare, bump, and version ranges.

Ranges are comma-separated comparators that must all hold (`>=1.0,<2`), or one of the
shorthands `^1.2` (compatible: same left-most non-zero part), `~1.2.3` (same minor),
`1.4.x` / `==1.4` (any 1.4 patch), `*` (any). Partial versions fill with zeros on the lower
side. As in npm and cargo, a pre-release (`2.0.0-rc.1`) only satisfies a range when one of
its comparators names a pre-release of the same `major.minor.patch`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import total_ordering

from modreg.errors import UsageError

__all__ = [
    "SEMVER_PATTERN",
    "Version",
    "VersionRange",
    "parse_version",
    "parse_range",
    "BUMP_PARTS",
]

_IDENT = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_SEMVER_RE = re.compile(SEMVER_PATTERN)
_PARTIAL_RE = re.compile(
    r"^v?(0|[1-9]\d*|[xX*])(?:\.(0|[1-9]\d*|[xX*]))?(?:\.(0|[1-9]\d*|[xX*]))?"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?(?:\+[0-9A-Za-z.-]+)?$"
)
_COMPARATOR_RE = re.compile(r"^(>=|<=|==|!=|>|<|=|\^|~)?\s*(.*)$")
BUMP_PARTS = ("major", "minor", "patch")
_RANGE_HINT = 'write a range like ">=1.0,<2", "^1.2", "~1.2.3", "==1.4.0" or "*".'


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A semantic version; ordered by semver precedence (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str | int, ...] = ()
    build: str = field(default="")

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`; raise UsageError otherwise."""
        match = _SEMVER_RE.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise UsageError(
                f"`{text}` is not a semantic version.",
                hint='write MAJOR.MINOR.PATCH, e.g. "1.2.0" (quoted in TOML and YAML).',
            )
        major, minor, patch, pre, build = match.groups()
        return cls(int(major), int(minor), int(patch), _split_prerelease(pre), build or "")

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(part) for part in self.prerelease)
        if self.build:
            text += "+" + self.build
        return text

    def __repr__(self) -> str:
        return f"Version('{self}')"

    def _key(self) -> tuple:
        # A release sorts after its pre-releases; numeric identifiers before alphanumeric ones.
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, not self.prerelease, pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def bump(self, part: str) -> Version:
        """The next `major`, `minor` or `patch` version (a pre-release bumps to its release)."""
        if part not in BUMP_PARTS:
            raise UsageError(f"cannot bump `{part}`.", hint="bump one of: major, minor, patch.")
        major, minor, patch = self.release
        if self.prerelease and _is_release_of_bump(self, part):
            return Version(major, minor, patch)
        if part == "major":
            return Version(major + 1, 0, 0)
        if part == "minor":
            return Version(major, minor + 1, 0)
        return Version(major, minor, patch + 1)


def _is_release_of_bump(version: Version, part: str) -> bool:
    """npm's rule: 2.0.0-rc.1 bumps (major) to 2.0.0, 1.3.0-rc.1 bumps (minor) to 1.3.0."""
    if part == "major":
        return version.minor == 0 and version.patch == 0
    if part == "minor":
        return version.patch == 0
    return True


def _split_prerelease(text: str | None) -> tuple[str | int, ...]:
    if not text:
        return ()
    return tuple(int(part) if part.isdigit() else part for part in text.split("."))


def parse_version(text: str) -> Version:
    """Parse a semantic version string (see `Version.parse`)."""
    return Version.parse(text)


@dataclass(frozen=True)
class _Comparator:
    op: str  # one of >= > <= < == !=
    version: Version

    def holds(self, version: Version) -> bool:
        if self.op == "==":
            return version == self.version
        if self.op == "!=":
            return version != self.version
        if self.op == ">=":
            return version >= self.version
        if self.op == ">":
            return version > self.version
        if self.op == "<=":
            return version <= self.version
        return version < self.version


@dataclass(frozen=True)
class VersionRange:
    """A set of versions: all comparators must hold. `VersionRange.parse(">=1.0,<2")`."""

    text: str
    comparators: tuple[_Comparator, ...]

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        """Parse a range; raise UsageError naming the part that does not parse."""
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f"`{text}` is not a version range.", hint=_RANGE_HINT)
        comparators: list[_Comparator] = []
        for part in text.split(","):
            comparators.extend(_parse_comparator(part.strip(), text))
        return cls(text.strip(), tuple(comparators))

    def contains(self, version: Version) -> bool:
        """True when `version` satisfies every comparator (pre-releases: see module doc)."""
        if version.prerelease and not any(
            c.version.prerelease and c.version.release == version.release for c in self.comparators
        ):
            return False
        return all(c.holds(version) for c in self.comparators)

    def __contains__(self, version: Version) -> bool:
        return self.contains(version)

    def __str__(self) -> str:
        return self.text


def parse_range(text: str) -> VersionRange:
    """Parse a version range string (see `VersionRange.parse`)."""
    return VersionRange.parse(text)


def _parse_comparator(part: str, whole: str) -> list[_Comparator]:
    op, rest = _COMPARATOR_RE.match(part).groups()  # type: ignore[union-attr]
    match = _PARTIAL_RE.match(rest.strip())
    if not part or match is None:
        raise UsageError(f"`{part or whole}` in the range `{whole}` is not a version comparator.", hint=_RANGE_HINT)
    parts, pre = _numeric_parts(match.groups()[:3]), _split_prerelease(match.group(4))
    if pre and len(parts) < 3:
        raise UsageError(f"`{part}` in the range `{whole}` has a pre-release without a full version.", hint=_RANGE_HINT)
    low = Version(*(parts + [0, 0, 0])[:3], prerelease=pre) if parts else Version(0, 0, 0)
    op = {"": "", "=": "==", None: ""}.get(op, op)
    if op in ("", "=="):
        return _span(low, _ceiling(parts, len(parts)), exact=len(parts) == 3)
    if op == "^":
        significant = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
        return _span(low, _ceiling(parts, min(significant + 1, len(parts))), exact=False)
    if op == "~":
        return _span(low, _ceiling(parts, min(len(parts), 2)), exact=False)
    return _bounded(op, low, parts, part)


def _numeric_parts(groups: tuple[str | None, ...]) -> list[int]:
    parts: list[int] = []
    for group in groups:
        if group is None or group in ("x", "X", "*"):
            break
        parts.append(int(group))
    return parts


def _ceiling(parts: list[int], keep: int) -> Version | None:
    """The exclusive upper bound above the `keep` left-most parts (None: unbounded).

    It is the bound's lowest pre-release (`2.0.0-0`), so `<2` also excludes 2.0.0-rc.1.
    """
    if keep == 0:
        return None
    bumped = parts[:keep]
    bumped[-1] += 1
    return Version(*(bumped + [0, 0, 0])[:3], prerelease=(0,))


def _span(low: Version, high: Version | None, *, exact: bool) -> list[_Comparator]:
    if exact:
        return [_Comparator("==", low)]
    comparators = [_Comparator(">=", low)]
    if high is not None:
        comparators.append(_Comparator("<", high))
    return comparators


def _bounded(op: str, low: Version, parts: list[int], part: str) -> list[_Comparator]:
    """`>`, `>=`, `<`, `<=`, `!=` with a possibly partial version (`>1` means `>=2.0.0`)."""
    if op == "!=" and len(parts) < 3:
        raise UsageError(f"`{part}` needs a full version after `!=`.", hint=_RANGE_HINT)
    if len(parts) == 3 or op == ">=":
        return [_Comparator(op, low)]
    if op == "<":
        return [_Comparator("<", Version(*low.release, prerelease=(0,)))]
    ceiling = _ceiling(parts, len(parts))
    if ceiling is None:  # `>*` matches nothing, `<=*` everything
        return [_Comparator("<", Version(0, 0, 0))] if op == ">" else []
    if op == ">":
        return [_Comparator(">=", Version(*ceiling.release))]
    return [_Comparator("<", ceiling)]
