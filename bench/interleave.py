"""An export whose lines go back and forth in date: the same history, each pair of lines
that can be recorded the other way round swapped, so the earlier of the two is back-dated
behind the later one.

A pair is swapped only when recording it the other way round is the same history: the two
lines are dated apart (so the timeline, and every outcome, is the one of the original) and
neither reads what the other wrote (no dividend or conversion, whose stored outcome reads the
series; no warrant tied to the closing just before it, no exercise of the warrant just
issued). `finledger import` must accept all of it, and end with the same books.

    .venv/bin/python bench/interleave.py /tmp/h8000.jsonl -o /tmp/h8000-interleaved.jsonl
    .venv/bin/python bench/interleave.py back-and-forth:8000 -o /tmp/b8000.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SWAPPABLE = frozenset({"ClosingCompleted", "WarrantsIssued", "WarrantsExercised",
                       "CommonOutstandingReported"})


def _reads(later: dict[str, Any], earlier: dict[str, Any]) -> bool:
    """Whether `later` refers to what `earlier` recorded."""
    data, before = later["data"], earlier["data"]
    ref = before.get("ref")
    if ref is None:
        return False
    return bool(data.get("closing") == ref or data.get("warrant") == ref)


def swappable(first: dict[str, Any], second: dict[str, Any]) -> bool:
    return (first["type"] in SWAPPABLE and second["type"] in SWAPPABLE
            and first["effective_date"] < second["effective_date"]
            and not _reads(second, first))


def interleave(lines: Iterator[str]) -> Iterator[str]:
    """The lines, each swappable pair the other way round."""
    held: tuple[str, dict[str, Any]] | None = None
    for text in lines:
        entry = json.loads(text)
        if held is None:
            held = (text, entry)
            continue
        if swappable(held[1], entry):
            yield text
            yield held[0]
            held = None
            continue
        yield held[0]
        held = (text, entry)
    if held is not None:
        yield held[0]


def back_and_forth(n: int) -> Iterator[str]:
    """n lines, every other one dated the day before the line ahead of it (the shape of
    the import that grew quadratically): warrants issued on alternating days, and now and
    then an exercise of a warrant issued a while before."""
    from datetime import date, timedelta

    start = date(2000, 1, 3)

    def line(kind: str, on: date, data: dict[str, Any]) -> str:
        return json.dumps({"type": kind, "effective_date": on.isoformat(), "data": data}) + "\n"

    for k in range(n):
        pair, second = divmod(k, 2)
        on = start + timedelta(days=2 * pair + (0 if second else 1))
        if k % 8 == 7 and k >= 16:
            yield line("WarrantsExercised", on + timedelta(days=1),
                       {"warrant": f"W-{k - 15}", "shares": 10})
        else:
            yield line("WarrantsIssued", on, {"ref": f"W-{k}", "holder": f"Fund {k % 7}",
                                              "shares": 1000, "exercise_price": "3.00"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source", help="an export (JSON lines) in date order, or "
                                           "back-and-forth:N for N synthetic lines")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    back = 0
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(args.output.open("w", encoding="utf-8"))
        if args.source.startswith("back-and-forth:"):
            lines = back_and_forth(int(args.source.split(":", 1)[1]))
        else:
            src = stack.enter_context(Path(args.source).open(encoding="utf-8"))
            lines = interleave(line if line.endswith("\n") else line + "\n" for line in src)
        latest = ""
        for text in lines:
            on = json.loads(text)["effective_date"]
            back += on < latest
            latest = max(latest, on)
            out.write(text)
    print(json.dumps({"back_dated_lines": back}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
