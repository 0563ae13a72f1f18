"""The input rules a command line applies to its values (`ledger.inputs`, `ledger.ledgers`):
the same as for an import file. Each refusal is an `InvalidInput` saying what would be right."""

from ledger.inputs import clean_name, date_text, decimal_text, investor_text, rate_text, shares_text
from ledger.ledgers import DEFAULT, clean_ledger_name

__all__ = ["DEFAULT", "clean_ledger_name", "clean_name", "date_text", "decimal_text",
           "investor_text", "is_head_hash", "parse_head", "rate_text", "shares_text"]


def is_head_hash(text: str) -> bool:
    """Whether `text` is a whole head hash (64 lower-case hex digits)."""
    from ledger.provenance import HEAD

    return HEAD.fullmatch(text) is not None


def parse_head(text: str) -> str:
    """A head hash as `audit verify --expect-head` takes it: whole, or its first 8 or more
    hex digits."""
    from ledger.audit import parse_head as parse

    return parse(text)
