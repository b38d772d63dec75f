"""Semantic versions: parsing, precedence, bumps and ranges (with properties)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modreg.errors import UsageError
from modreg.registry.store.versions import Version, VersionRange, parse_range, parse_version

_numbers = st.integers(min_value=0, max_value=10_000)
_identifier = st.one_of(
    st.integers(min_value=0, max_value=999).map(str),
    st.from_regex(r"[A-Za-z-][0-9A-Za-z-]{0,6}", fullmatch=True),
)
_versions = st.builds(
    lambda major, minor, patch, pre, build: f"{major}.{minor}.{patch}"
    + (f"-{'.'.join(pre)}" if pre else "")
    + (f"+{'.'.join(build)}" if build else ""),
    _numbers,
    _numbers,
    _numbers,
    st.lists(_identifier, max_size=3),
    st.lists(st.from_regex(r"[0-9A-Za-z-]{1,5}", fullmatch=True), max_size=2),
)


@given(_versions)
def test_parse_then_str_round_trips(text: str) -> None:
    assert str(parse_version(text)) == text


@given(_versions, _versions)
def test_ordering_is_total_and_consistent(a: str, b: str) -> None:
    va, vb = parse_version(a), parse_version(b)
    assert (va < vb) + (va == vb) + (va > vb) == 1
    assert (va == vb) == (hash(va) == hash(vb)) or va != vb


def test_precedence_follows_the_semver_spec() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "2.0.0",
        "10.0.0",
    ]
    parsed = [parse_version(v) for v in ordered]
    assert sorted(reversed(parsed)) == parsed
    assert parse_version("1.0.0+build.1") == parse_version("1.0.0+other")


@pytest.mark.parametrize("text", ["1.10", "1", "01.0.0", "1.0.0-", "1.0.0-01", "v1.0.0", "1.0.0.0", "", "a.b.c"])
def test_invalid_versions_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_version(text)
    assert "MAJOR.MINOR.PATCH" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("version", "part", "expected"),
    [
        ("1.2.3", "patch", "1.2.4"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "major", "2.0.0"),
        ("1.2.3-rc.1", "patch", "1.2.3"),
        ("1.3.0-rc.1", "minor", "1.3.0"),
        ("1.3.1-rc.1", "minor", "1.4.0"),
        ("2.0.0-rc.1", "major", "2.0.0"),
        ("0.9.0+build", "minor", "0.10.0"),
    ],
)
def test_bump(version: str, part: str, expected: str) -> None:
    assert str(parse_version(version).bump(part)) == expected


@given(_versions, st.sampled_from(["major", "minor", "patch"]))
def test_bump_always_goes_up(text: str, part: str) -> None:
    version = parse_version(text)
    assert version.bump(part) > version


def test_bump_refuses_unknown_part() -> None:
    with pytest.raises(UsageError):
        parse_version("1.0.0").bump("micro")


@pytest.mark.parametrize(
    ("spec", "inside", "outside"),
    [
        (">=1.0,<2", ["1.0.0", "1.9.9"], ["0.9.9", "2.0.0", "2.0.0-rc.1"]),
        ("^1.2", ["1.2.0", "1.99.0"], ["1.1.9", "2.0.0"]),
        ("^0.2.3", ["0.2.3", "0.2.99"], ["0.3.0", "0.2.2"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        ("~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
        ("~1", ["1.0.0", "1.9.0"], ["2.0.0"]),
        ("==1.4.0", ["1.4.0"], ["1.4.1", "1.3.9"]),
        ("1.4", ["1.4.0", "1.4.7"], ["1.5.0"]),
        ("1.x", ["1.0.0", "1.9.0"], ["2.0.0"]),
        ("*", ["0.0.1", "9.9.9"], ["1.0.0-alpha"]),
        (">1", ["2.0.0"], ["1.9.9"]),
        ("<=1.2", ["1.2.9"], ["1.3.0"]),
        ("!=1.2.3", ["1.2.4"], ["1.2.3"]),
        (">=2.0.0-rc.1", ["2.0.0-rc.2", "2.0.0"], ["2.0.0-beta", "2.1.0-rc.1"]),
        (" >= 1.0 , < 2 ", ["1.5.0"], ["2.0.0"]),
    ],
)
def test_ranges(spec: str, inside: list[str], outside: list[str]) -> None:
    wanted = VersionRange.parse(spec)
    assert all(wanted.contains(parse_version(v)) for v in inside)
    assert not any(parse_version(v) in wanted for v in outside)


@pytest.mark.parametrize("spec", ["", ">=1.0,", ">=", "^x.y", "1.0-rc", "!=1.2", ">>1", "1.0.0 || 2.0.0"])
def test_bad_ranges_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_range(spec)
    assert ">=1.0,<2" in (caught.value.hint or "")


@given(_versions)
def test_caret_range_contains_its_own_release(text: str) -> None:
    version = parse_version(text)
    release = Version(*version.release)
    assert VersionRange.parse(f"^{release}").contains(release)
    assert not VersionRange.parse(f"^{release}").contains(release.bump("major"))
