"""The reports as data, described for every output (`projections.tables`), their JSON form
and periods (`projections.reports`, `ledger.schedule`), and the typed rows the renderers in
`cli/` read."""

from typing import TYPE_CHECKING

from ledger.schedule import PERIOD_MONTHS
from projections.reports import period_of, to_json
from projections.tables import NUMERIC, Described, Kind, Table, describe, describe_log, plain

if TYPE_CHECKING:  # the rows' types, for the renderers' annotations (loaded by the reports)
    from projections.dividends import DividendHolder, DividendSeries, DividendsReport, DividendTotals
    from projections.eps import EpsReport, EpsSecurity
    from projections.reports import (
        CapitalReport,
        Overhang,
        PreferredHolder,
        PreferredReport,
        PreferredSeries,
        PriceOverhang,
        SummaryReport,
        WarrantOverhang,
        WarrantsReport,
    )
    from projections.terms import TermsReport

__all__ = ["NUMERIC", "PERIOD_MONTHS", "CapitalReport", "Described", "DividendHolder",
           "DividendSeries", "DividendTotals", "DividendsReport", "EpsReport", "EpsSecurity",
           "Kind", "Overhang", "PreferredHolder", "PreferredReport", "PreferredSeries",
           "PriceOverhang", "SummaryReport", "Table", "TermsReport", "WarrantOverhang",
           "WarrantsReport", "describe", "describe_log", "period_of", "plain", "to_json"]
