"""Golden text: each report rendered to a fixed-width console with colour off.

The ledger is the hand-computed history of `tests/projections/test_projections.py`, as of 2020-12-31 (warrants
at a market price of 3.00, capital by quarter); every figure below is checked there.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console

from cli.render import capital_tables, preferred_table, summary_table, warrants_tables
from projections import reports
from projections.books import replay
from tests.projections.test_projections import history

ON = date(2020, 12, 31)


def render(renderable: Any, width: int = 120) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False).print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


PREFERRED = """\
Outstanding preferred as of 2020-12-31
                                                    Stated      Accrued  As-converted
Series / holder  Issued  Converted  Outstanding    value $  dividends $        common
──────────────────────────────────────────────────────────────────────────────────────
A                    60          5           55  55,000.00     2,772.60        27,500
  X                  40          0           40  40,000.00     2,016.44        20,000
  Y                  20          5           15  15,000.00       756.16         7,500

Total                                        55  55,000.00     2,772.60        27,500
A: stated value $1,000.00, converts at $2.00, 10% cumulative, 100 authorized,
dividends declared through 2020-06-30
"""


WARRANTS = """\
Warrant overhang as of 2020-12-31, market price $3.00
                Issued                  Exercise                                            Potential  In the  Treasury
Ref             on          Expires      price $  Issued  Exercised  Expired  Outstanding  proceeds $   money    shares
────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
W1              2020-01-01  2021-01-01      2.50  10,000      3,000        0        7,000   17,500.00   7,000     1,166
Closing C1                                        10,000      3,000        0        7,000   17,500.00   7,000     1,166

W2              2020-01-01  -               4.00   5,000      1,000        0        4,000   16,000.00       0         0
No closing                                         5,000      1,000        0        4,000   16,000.00       0         0

Total                                             15,000      4,000        0       11,000   33,500.00   7,000     1,166

Overhang by exercise price as of 2020-12-31
Exercise                Potential  In the  Treasury
 price $  Outstanding  proceeds $   money    shares
────────────────────────────────────────────────────
    2.50        7,000   17,500.00   7,000     1,166
    4.00        4,000   16,000.00       0         0

   Total       11,000   33,500.00   7,000     1,166
"""


CAPITAL = """\
Capital raised as of 2020-12-31
                                                                     Cumulative
Date        Source    Ref  Security    Gross $    Fees $      Net $     gross $
────────────────────────────────────────────────────────────────────────────────
2020-01-01  closing   C1   A         50,000.00  1,500.00  48,500.00   50,000.00
2020-04-01  closing   C2   A         10,000.00      0.00  10,000.00   60,000.00
2020-06-01  exercise  W1   common     7,500.00      0.00   7,500.00   67,500.00

Total                                67,500.00  1,500.00  66,000.00

Capital raised by quarter as of 2020-12-31
Period       Gross $    Fees $      Net $
──────────────────────────────────────────
2020-Q1    50,000.00  1,500.00  48,500.00
2020-Q2    17,500.00      0.00  17,500.00

Total      67,500.00  1,500.00  66,000.00
"""


SUMMARY = """\
Summary as of 2020-12-31
Capital raised
  Gross proceeds $                    67,500.00
  Fees $                               1,500.00
  Net proceeds $                      66,000.00

Preferred outstanding
  Shares                                     55
  Stated value $                      55,000.00
  Accrued unpaid dividends $           2,772.60
  As-converted common                    27,500

Warrant overhang
  Warrant shares outstanding             11,000
  Potential proceeds $                33,500.00

Fully diluted common
  Reported outstanding on 2020-01-15  1,000,000
  Issued by the ledger since              5,731
  Common outstanding                  1,005,731
  As-converted preferred                 27,500
  Warrants outstanding                   11,000
  Fully diluted                       1,044,231
"""


@pytest.fixture(scope="module")
def books() -> Any:
    return replay(history().events, ON)


def test_preferred(books: Any) -> None:
    assert render(preferred_table(reports.preferred(books, ON))) == PREFERRED.rstrip("\n")


def test_warrants_at_a_market_price(books: Any) -> None:
    table = warrants_tables(reports.warrants(books, ON, Decimal("3.00")))
    assert render(table) == WARRANTS.rstrip("\n")


def test_capital_by_quarter(books: Any) -> None:
    table = capital_tables(reports.capital(books, ON, by="quarter"))
    assert render(table) == CAPITAL.rstrip("\n")


def test_summary(books: Any) -> None:
    assert render(summary_table(reports.summary(books, ON))) == SUMMARY.rstrip("\n")


def test_no_escape_codes_without_colour(books: Any) -> None:
    text = render(warrants_tables(reports.warrants(books, ON)))
    assert "\x1b" not in text
