"""The reports as data, described for every output (`projections.tables`), their JSON form
and periods (`projections.reports`, `ledger.schedule`)."""

from ledger.schedule import PERIOD_MONTHS
from projections.reports import (
    PreferredHolder,
    PreferredReport,
    PreferredSeries,
    PreferredTotals,
    period_of,
    to_json,
)
from projections.tables import NUMERIC, Described, Kind, Table, describe, describe_log, plain

__all__ = ["NUMERIC", "PERIOD_MONTHS", "Described", "Kind", "PreferredHolder", "PreferredReport",
           "PreferredSeries", "PreferredTotals", "Table", "describe", "describe_log", "period_of",
           "plain", "to_json"]
