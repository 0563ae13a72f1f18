"""Pure renderers: rows in, a rich `Table` out. Nothing here reads the ledger."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table
from rich.text import Text


def _summary(entry: dict[str, Any]) -> str:
    data = entry["data"]
    kind = entry["type"]
    if kind == "SeriesDesignated":
        return (f"{data['series']}: stated {data['stated_value']}, converts at "
                f"{data['conversion_price']}, {data['dividend_rate']}%, "
                f"{data['authorized']:,} authorized")
    if kind == "SeriesAuthorizationIncreased":
        return f"{data['series']}: +{data['shares']:,} authorized (now {data['authorized']:,})"
    if kind == "ClosingCompleted":
        investors = ", ".join(f"{a['investor']} {a['shares']:,}" for a in data["allocations"])
        return (f"{data['ref']}: {data['shares']:,} {data['security']} at "
                f"{data['price_per_share']}, gross {data['gross']} ({investors})")
    if kind == "WarrantsIssued":
        return (f"{data['ref']}: {data['holder']} {data['shares']:,} at "
                f"{data['exercise_price']}" + (f", expires {data['expires']}" if data["expires"] else ""))
    if kind == "WarrantsExercised":
        how = "cashless" if data["cashless"] else f"cash {data['proceeds']}"
        return f"{data['warrant']}: {data['shares']:,} exercised ({how}), {data['common_shares']:,} common"
    if kind == "DividendDeclared":
        return (f"{data['series']}: through {data['through']}, {data['form']} {data['amount']}"
                + (f", {data['common_shares']:,} common" if data["form"] == "stock" else ""))
    if kind == "ConversionRequested":
        return (f"{data['series']}: {data['holder']} {data['shares']:,} -> "
                f"{data['common_shares']:,} common, cash in lieu {data['cash_in_lieu']}")
    if kind == "CommonOutstandingReported":
        return f"{data['shares']:,} common outstanding"
    if kind == "EventReversed":
        return f"reverses position {data['reversed_position']}: {data['reason']}"
    return json.dumps(data)[:120]


def log_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(title="Ledger events (recording order)", title_justify="left")
    table.add_column("Pos", justify="right")
    table.add_column("Effective")
    table.add_column("Type")
    table.add_column("What")
    table.add_column("Recorded (UTC)")
    table.add_column("By")
    for entry in entries:
        reversed_by = entry.get("reversed_by")
        what = Text(_summary(entry))
        if reversed_by:
            what.append(f"  [reversed by {reversed_by}]", style="red")
            what.stylize("strike", 0, len(_summary(entry)))
        table.add_row(
            str(entry["position"]), entry["effective_date"], entry["type"], what,
            entry["recorded_at"][:19].replace("T", " "), entry.get("actor", ""),
        )
    return table
