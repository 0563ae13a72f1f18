"""Small wording helpers shared by the commands' messages."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 event`, `2 events` (an irregular plural is given as `nouns`)."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"
