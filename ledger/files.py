"""Output files (an export): written privately and whole, or not at all.

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
from typing import TextIO

from ledger.errors import InvalidInput


def _cannot(path: Path, exc: OSError) -> InvalidInput:
    return InvalidInput(f"cannot write {str(path)!r}: {exc.strerror or exc}")


@contextlib.contextmanager
def private_output(path: Path) -> Iterator[TextIO]:
    """A text file to write `path`'s new content into; it replaces `path` when the block
    ends without an exception, and is removed when it raises. A path that exists and is not
    a regular file (a terminal, a pipe, /dev/null) is written directly."""
    if path.is_dir():
        raise InvalidInput(f"{str(path)!r} is a folder; give a file name for the output")
    if path.exists() and not path.is_file():
        try:
            with path.open("w", encoding="utf-8") as fh:
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
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(scratch, path)
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)
