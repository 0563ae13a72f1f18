"""The one family of errors a user may see. Anything else is a bug."""

from __future__ import annotations


class LedgerError(Exception):
    """A refusal: the message says what was wrong and what would be right."""


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


class ConcurrencyConflict(LedgerError):
    """Another writer kept winning the race for the next position."""


class StoreError(LedgerError):
    """The store cannot be opened or used (wrong key, newer format, unreachable server)."""


class AuditFailure(LedgerError):
    """The audit found problems."""
