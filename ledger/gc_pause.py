"""Helpers for the loops that handle a whole ledger at once (import, verify)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a loop builds many long-lived objects.

    Events, their values and the fold's state hold no reference cycles, so the collector
    finds nothing in them; left running, it rescans the growing heap again and again
    (a third of a long decode's time). Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
