"""The events as the command line shows them: their types (`events`), each one's log entry
(`events.codec`) and what it computed and is referred to by (`projections.mentions`)."""

from events import EVENTS_BY_NAME, ClosingCompleted, LedgerEvent, StockSplit, TermsAdjusted
from events.codec import log_entry
from projections.mentions import outcome, reference_of

__all__ = ["EVENTS_BY_NAME", "ClosingCompleted", "LedgerEvent", "StockSplit", "TermsAdjusted",
           "log_entry", "outcome", "reference_of"]
