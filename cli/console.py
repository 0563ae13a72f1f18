"""The two consoles: reports to stdout, errors and progress to stderr.

rich honours NO_COLOR and drops colour in pipes by itself; outside a terminal the width is
fixed so that piped reports do not wrap at 80 columns.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

PIPE_WIDTH = 160


def _console(*, stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(file=stream, stderr=stderr, width=width, highlight=False, soft_wrap=False)


def out() -> Console:
    return _console(stderr=False)


def err() -> Console:
    return _console(stderr=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def fail_line(message: str) -> None:
    """The one line a refused command prints on stderr."""
    line = " ".join(message.split())
    sys.stderr.write(f"Error: {line}\n")
    sys.stderr.flush()


def warn_line(message: str) -> None:
    """One line on stderr about a later step that failed after a command succeeded."""
    line = " ".join(message.split())
    sys.stderr.write(f"Warning: {line}\n")
    sys.stderr.flush()
