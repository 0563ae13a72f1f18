"""The reports as data, described for every output (`projections.tables`), their JSON form
and periods (`projections.reports`, `ledger.schedule`)."""

from ledger.schedule import PERIOD_MONTHS
from projections.dividends import DividendHolder, DividendSeries, DividendsReport, DividendTotals
from projections.eps import EpsPreferred, EpsReport, EpsSecurity
from projections.reports import (
    CapitalEntry,
    CapitalPeriod,
    CapitalReport,
    CapitalTotals,
    ClosingOverhang,
    InTheMoney,
    Overhang,
    PreferredHolder,
    PreferredReport,
    PreferredSeries,
    PreferredTotals,
    PriceOverhang,
    SummaryReport,
    WarrantOverhang,
    WarrantsReport,
    period_of,
    to_json,
)
from projections.tables import NUMERIC, Described, Kind, Table, describe, describe_log, plain
from projections.terms import TermsReport

__all__ = [
    "NUMERIC",
    "PERIOD_MONTHS",
    "CapitalEntry",
    "CapitalPeriod",
    "CapitalReport",
    "CapitalTotals",
    "ClosingOverhang",
    "Described",
    "DividendHolder",
    "DividendSeries",
    "DividendTotals",
    "DividendsReport",
    "EpsPreferred",
    "EpsReport",
    "EpsSecurity",
    "InTheMoney",
    "Kind",
    "Overhang",
    "PreferredHolder",
    "PreferredReport",
    "PreferredSeries",
    "PreferredTotals",
    "PriceOverhang",
    "SummaryReport",
    "Table",
    "TermsReport",
    "WarrantOverhang",
    "WarrantsReport",
    "describe",
    "describe_log",
    "period_of",
    "plain",
    "to_json",
]
