"""The one family of errors a user may see. Anything else is a bug."""

from __future__ import annotations


class LedgerError(Exception):
    """A refusal: the message says what was wrong and what would be right."""

    exit_code = 1  # refused; 2 is a malformed command line


class InvalidInput(LedgerError):
    """A value given to a command is malformed or out of range."""


class MalformedOption(InvalidInput):
    """A command-line value that is wrong in itself (the CLI exits 2, as for any malformed
    command line), found only once the ledger is read (an ambiguous hash prefix)."""


class NotFound(LedgerError):
    """A series, reference or position that the ledger does not hold."""


class InvariantViolation(LedgerError):
    """Recording the command would break an invariant of the ledger."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class InvalidEvent(InvalidInput, InvariantViolation):
    """A rule of an event's own fields (a name reserved, an investor given twice): the fold
    checks it, and a command that breaks it was given invalid input."""


class ConcurrencyConflict(LedgerError):
    """Another writer kept winning the race for the next position."""


class StoreError(LedgerError):
    """The store cannot be opened or used (wrong key, newer format, unreachable server)."""


class InvalidTarget(StoreError):
    """The --db value cannot name a ledger at all (a malformed URL, a SQLite target that
    keeps nothing, a path under a file): a malformed command line."""

    exit_code = 2


class DamagedLedger(StoreError):
    """The ledger's bytes are damaged: `audit verify` says where."""


class AuditFailure(LedgerError):
    """The audit found problems."""
