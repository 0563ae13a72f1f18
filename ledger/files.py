"""Output files (an export, a workbook): written privately and whole, or not at all.

An export holds every holder's name and position in clear, so the file is created readable
by its owner only (0600); and it is written under a temporary name in the same folder and
renamed into place when complete, so that a failed or interrupted export never truncates or
half-writes the file it was pointed at.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, cast

from ledger.errors import InvalidInput
from ledger.location import Target


def refuse_the_ledger(target: Target, path: Path, option: str = "-o FILE") -> None:
    """An output must never be the ledger (or a file SQLite keeps beside it): writing it
    would destroy the history."""
    if target.holds(path):
        raise InvalidInput(
            f"{str(path)!r} is the ledger itself (or a file SQLite keeps beside it); "
            f"writing onto it would destroy it: give another {option}"
        )


def _cannot(path: Path, exc: OSError) -> InvalidInput:
    return InvalidInput(f"cannot write {str(path)!r}: {exc.strerror or exc}")


@contextlib.contextmanager
def private_output(path: Path) -> Iterator[TextIO]:
    """A text file to write `path`'s new content into; it replaces `path` when the block
    ends without an exception, and is removed when it raises. A path that exists and is not
    a regular file (a terminal, a pipe, /dev/null) is written directly."""
    with _replacing(path, "w") as fh:
        yield cast(TextIO, fh)


@contextlib.contextmanager
def private_binary_output(path: Path) -> Iterator[BinaryIO]:
    """`private_output` for bytes (a workbook)."""
    with _replacing(path, "wb") as fh:
        yield cast(BinaryIO, fh)


@contextlib.contextmanager
def _replacing(path: Path, mode: str) -> Iterator[IO[Any]]:
    encoding = None if "b" in mode else "utf-8"
    if path.is_dir():
        raise InvalidInput(f"{str(path)!r} is a folder; give a file name for the output")
    if path.exists() and not path.is_file():
        try:
            with path.open(mode, encoding=encoding) as fh:
                yield fh
        except OSError as exc:
            raise _cannot(path, exc) from None
        return
    try:
        fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _cannot(path, exc) from None
    try:
        os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)  # 0600, whatever the umask
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(scratch, path)
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)
