"""The commands a recording decides (`ledger.commands`, `ledger.holdings`)."""

from ledger.commands import (
    AdjustTerms,
    Command,
    DeclareDividend,
    DesignateSeries,
    ExerciseWarrants,
    IncreaseAuthorization,
    IssueWarrants,
    RecordClosing,
    ReportCommonOutstanding,
    RequestConversion,
    SplitStock,
)
from ledger.holdings import RedeemShares, TransferShares, TransferWarrants

__all__ = ["AdjustTerms", "Command", "DeclareDividend", "DesignateSeries", "ExerciseWarrants",
           "IncreaseAuthorization", "IssueWarrants", "RecordClosing", "RedeemShares",
           "ReportCommonOutstanding", "RequestConversion", "SplitStock", "TransferShares",
           "TransferWarrants"]
