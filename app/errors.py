"""The refusals the command line turns into one `Error:` line and an exit code
(`ledger.errors`)."""

from ledger.errors import (
    AuditFailure,
    InvalidInput,
    InvariantViolation,
    LedgerError,
    MalformedOption,
    NotFound,
)

__all__ = ["AuditFailure", "InvalidInput", "InvariantViolation", "LedgerError", "MalformedOption",
           "NotFound"]
