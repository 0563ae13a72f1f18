"""The two consoles: reports to stdout, errors and progress to stderr.

In a terminal the width is the terminal's; in a pipe it is COLUMNS when set, else fixed, so
that piped reports do not wrap at 80 columns. A pipe gets no escape codes, and NO_COLOR (set
and not empty, as no-color.org says) means none at all: no colour, no bold, no dim.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich loads when something is drawn: a JSON answer or a one-line error needs none
    from rich.console import Console

PIPE_WIDTH = 160


def pipe_width() -> int:
    """COLUMNS when it is a usable width, else PIPE_WIDTH."""
    columns = os.environ.get("COLUMNS", "").strip()
    return int(columns) if columns.isdigit() and 0 < int(columns) <= 10_000 else PIPE_WIDTH


def _console(*, stderr: bool) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else pipe_width()
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(file=stream, stderr=stderr, width=width, highlight=False, soft_wrap=False,
                   color_system=None if plain else "auto")


def out() -> Console:
    return _console(stderr=False)


def err() -> Console:
    return _console(stderr=True)


def plain_console(console: Console) -> bool:
    """Whether to draw with plain characters: under NO_COLOR or outside a terminal."""
    return not console.is_terminal or console.no_color


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def warn_line(message: str) -> None:
    """A warning on stderr: the command still did what it was asked."""
    line = " ".join(message.split())
    sys.stderr.write(f"Warning: {line}\n")
    sys.stderr.flush()


def fail_line(message: str) -> None:
    """The one line a refused command prints on stderr."""
    line = " ".join(message.split())
    sys.stderr.write(f"Error: {line}\n")
    sys.stderr.flush()

