"""`Statement`: one top-level entry of a descriptor file, as the line-level editors see it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Statement"]


@dataclass(frozen=True)
class Statement:
    """One top-level entry of a file: its comment block, first line, and end (line indices)."""

    key: str
    lead: int
    start: int
    end: int
    is_table: bool = False
