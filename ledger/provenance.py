"""Proof that an export file is the history that was recorded: its own hash chain, checked
line by line, must recompute and end at the head an auditor saw (`import --verify-source-head`).

The file's chain is checked as it is read, in the same pass as the import, so a long export
is never held whole; the first line that breaks it is named and the import appends nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ledger.chain import GENESIS_HASH, entry_verifies
from ledger.errors import InvalidInput, InvariantViolation

HEAD = re.compile("[0-9a-f]{64}")


def verified_lines(lines: Iterable[str], head: str) -> Iterator[str]:
    """The lines as they are, each checked first: its hash recomputes from its content, it
    follows the line before it in the chain (the first from the genesis hash, positions
    1, 2, 3, ...), and the last one's hash is `head`. Raises, naming the line, otherwise."""
    prev, position, number = GENESIS_HASH, 0, 0
    for raw in lines:
        for text in raw.splitlines() or [raw]:  # numbered as the import numbers them
            number += 1
            if not text or text.isspace():
                continue
            try:
                prev = _link(json.loads(text), prev, position + 1)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise InvalidInput(f"line {number}: not an exported event with its hashes "
                                   f"({type(exc).__name__}: {exc}); --verify-source-head "
                                   "needs a file written by `finledger export`") from None
            except InvariantViolation as exc:
                raise InvariantViolation(f"line {number}: {exc}", None) from None
            position += 1
        yield raw
    if prev != head:
        ends = f"ends at {prev}" if position else "holds no events"
        raise InvariantViolation(
            f"the file's hash chain {ends}, not at {head}: it is not the history that ended "
            "there (edited, cut short or from another ledger); nothing was imported", None)


def _link(entry: Any, prev: str, position: int) -> str:
    if not isinstance(entry, dict):
        raise TypeError("a line is not a JSON object")
    if entry["position"] != position:
        raise InvariantViolation(f"position {entry['position']!r} where the chain needs "
                                 f"{position}: an event was deleted, inserted or moved", None)
    if entry["prev_hash"] != prev:
        raise InvariantViolation("its prev_hash is not the hash of the line before it: the "
                                 "chain is broken here", None)
    if not entry_verifies(entry):
        raise InvariantViolation(f"position {position} does not hash to the hash it states: "
                                 "the event was edited after it was exported", None)
    return str(entry["hash"])
