"""`export --format ocf`: an Open Cap Table Format 1.2.0 package that validates against the
official schemas, and says what the ledger says (what OCF cannot say is in its comments)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from events import EVENT_TYPES
from projections import ocf
from projections.ocf_schema import SCHEMAS, errors_in, validate_package
from tests.conftest import invoke
from tests.ledger.test_transfer import SPECTRUM, TERMS, record_all
from tests.paths import ROOT

ISSUER = ["--issuer-name", "Spectrum Pharmaceuticals, Inc.", "--formation-date", "1987-01-01"]
README = (ROOT / "README.md").read_text(encoding="utf-8")

# SPECTRUM (with TERMS) has every event type; these add a reversed closing (an issuance: retracted), a
# reversed authorization increase (not an issuance: left out, in the comments) and a cash
# dividend.
MORE = [
    ["record", "closing", "common", "--date", "2004-04-01", "--price-per-share", "3.40",
     "--investor", "Xmark Funds=1000", "--ref", "C-2"],
    ["record", "reversal", "19", "--reason", "closing never funded"],
    ["record", "authorization", "Series D", "--shares", "10", "--date", "2004-05-01"],
    ["record", "reversal", "21", "--reason", "board vote was not held"],
    ["record", "dividend", "Series D", "--through", "2003-12-31", "--date", "2004-01-02",
     "--form", "cash"],
]


def export(db: str, out: Path) -> dict[str, bytes]:
    r = invoke("--db", db, "export", "--format", "ocf", "-o", str(out), *ISSUER)
    assert r.code == 0, r.err
    assert "validated" in r.err
    return {path.name: path.read_bytes() for path in out.iterdir()}


def items(files: dict[str, bytes], name: str) -> list[dict[str, Any]]:
    return json.loads(files[name])["items"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, bytes]]:
    db = str(tmp_path_factory.mktemp("ocf") / "all.db")
    record_all(db, SPECTRUM + MORE + TERMS)
    return db, export(db, tmp_path_factory.mktemp("ocf") / "package")


def test_the_demo_ledger_exports_a_valid_package(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    assert invoke("--db", db, "demo").code == 0
    files = export(db, tmp_path / "spectrum-ocf")
    assert sorted(files) == sorted([ocf.MANIFEST, *ocf.FILES.values()])
    assert validate_package(files) == []
    manifest = json.loads(files[ocf.MANIFEST])
    assert manifest["issuer"]["legal_name"] == "Spectrum Pharmaceuticals, Inc."
    assert manifest["issuer"]["formation_date"] == "1987-01-01"
    head = invoke("--db", db, "audit", "verify").out.split()[-1]
    assert head in manifest["comments"][0]
    warrants = [t for t in items(files, "Transactions.ocf.json")
                if t["object_type"] == "TX_WARRANT_ISSUANCE"]
    # the press release's figures: 944,681 and 331,914 shares at $3.00 and $3.50
    assert sorted((w["quantity"], w["exercise_price"]["amount"]) for w in warrants) == [
        ("331914", "3.00"), ("331914", "3.50"), ("944681", "3.00"), ("944681", "3.50")]


def test_every_event_type_exports_a_valid_package(everything: tuple[str, dict[str, bytes]]) -> None:
    db, files = everything
    kinds = {e["type"] for e in json.loads(invoke("--db", db, "log", "--json").out)}
    assert kinds == {cls.__name__ for cls in EVENT_TYPES}
    problems = validate_package(files)
    assert problems == [], "\n".join(problems)
    for name, data in files.items():  # and each file on its own, against its file type
        document = json.loads(data)
        schema = {"OCF_MANIFEST_FILE": "files/OCFManifestFile.schema.json",
                  "OCF_STAKEHOLDERS_FILE": "files/StakeholdersFile.schema.json",
                  "OCF_STOCK_CLASSES_FILE": "files/StockClassesFile.schema.json",
                  "OCF_TRANSACTIONS_FILE": "files/TransactionsFile.schema.json",
                  "OCF_FINANCINGS_FILE": "files/FinancingsFile.schema.json"}[document["file_type"]]
        assert errors_in(document, schema) == [], name
    kinds_out = Counter(t["object_type"] for t in items(files, "Transactions.ocf.json"))
    assert {"TX_STOCK_ISSUANCE", "TX_WARRANT_ISSUANCE", "TX_STOCK_CONVERSION",
            "TX_WARRANT_EXERCISE", "TX_STOCK_CLASS_AUTHORIZED_SHARES_ADJUSTMENT",
            "TX_STOCK_RETRACTION", "TX_WARRANT_RETRACTION"} <= set(kinds_out)


def _live(files: dict[str, bytes], kind: str) -> dict[str, int]:
    """Each security's quantity, less what was converted, exercised or retracted."""
    live: dict[str, int] = {}
    for t in items(files, "Transactions.ocf.json"):
        if t["object_type"] == f"TX_{kind}_ISSUANCE":
            live[t["security_id"]] = int(t["quantity"])
        elif t["object_type"] in (f"TX_{kind}_RETRACTION", "TX_STOCK_CONVERSION",
                                  "TX_WARRANT_EXERCISE", f"TX_{kind}_CANCELLATION",
                                  f"TX_{kind}_TRANSFER", "TX_STOCK_REPURCHASE") \
                and t["security_id"] in live:
            del live[t["security_id"]]  # its balance, if any, is issued as a new security
    return live


def test_the_package_holds_what_the_reports_hold(
    everything: tuple[str, dict[str, bytes]],
) -> None:
    db, files = everything
    preferred = json.loads(invoke("--db", db, "report", "preferred", "--json").out)
    warrants = json.loads(invoke("--db", db, "report", "warrants", "--json").out)
    classes = {c["name"]: c for c in items(files, "StockClasses.ocf.json")}
    series = classes["Series D"]
    stock = _live(files, "STOCK")
    held = sum(n for sid, n in stock.items() if sid.startswith(("D-1/", "D-2/", "TR-")))
    assert held == preferred["totals"]["outstanding"]
    assert sum(_live(files, "WARRANT").values()) == warrants["totals"]["outstanding"]
    mechanism = series["conversion_rights"][0]["conversion_mechanism"]
    adjusted = [t["new_ratio_conversion_mechanism"] for t in items(files, "Transactions.ocf.json")
                if t["object_type"] == "TX_STOCK_CLASS_CONVERSION_RATIO_ADJUSTMENT"]
    in_force = adjusted[-1] if adjusted else mechanism  # the split's, at the end of TERMS
    assert in_force["conversion_price"]["amount"] == preferred["series"][0]["conversion_price"]
    adjustments = [t for t in items(files, "Transactions.ocf.json")
                   if t["object_type"] == "TX_STOCK_CLASS_AUTHORIZED_SHARES_ADJUSTMENT"]
    assert series["initial_shares_authorized"] == "444"
    assert [a["new_shares_authorized"] for a in adjustments] == ["600"]  # the new total
    assert str(preferred["series"][0]["authorized"]) == "600"  # the reversed +10 left out


def test_what_ocf_cannot_say_is_in_the_comments(
    everything: tuple[str, dict[str, bytes]],
) -> None:
    _, files = everything
    comments = json.loads(files[ocf.MANIFEST])["comments"]
    text = "\n".join(comments)
    assert "cash dividend on Series D through 2003-12-31" in text
    assert "reverses SeriesAuthorizationIncreased at position 21" in text
    assert "3108100 common shares outstanding" in text
    assert "hash chain" in text
    series = next(c for c in items(files, "StockClasses.ocf.json") if c["name"] == "Series D")
    assert any("8% a year" in c and "cumulative" in c for c in series["comments"])
    conversions = [t for t in items(files, "Transactions.ocf.json")
                   if t["object_type"] == "TX_STOCK_CONVERSION"]
    assert all(any("cash in lieu" in c for c in t["comments"]) for t in conversions)
    financing = next(f for f in items(files, "Financings.ocf.json") if f["name"] == "Closing D-2")
    assert any("fees 93600" in c for c in financing["comments"])


def test_every_event_type_has_one_case_and_a_readme_row() -> None:
    assert set(ocf.CASES) == set(EVENT_TYPES)
    section = README.split("## Open Cap Table Format", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    for cls in EVENT_TYPES:
        assert any(f"`{cls.__name__}`" in row for row in rows), cls.__name__


def test_the_validation_is_not_vacuous(everything: tuple[str, dict[str, bytes]]) -> None:
    _, files = everything
    transactions = json.loads(files["Transactions.ocf.json"])
    transactions["items"].append({
        "id": "x", "object_type": "TX_ISSUER_AUTHORIZED_SHARES_ADJUSTMENT",
        "date": "2003-05-14", "issuer_id": "issuer", "new_shares_authorized": "1000"})
    assert errors_in(transactions, "files/TransactionsFile.schema.json")
    broken = dict(files)
    broken["Transactions.ocf.json"] = ocf.dumps(transactions)
    problems = validate_package(broken)
    assert any("md5" in p for p in problems)
    assert any("TX_ISSUER_AUTHORIZED_SHARES_ADJUSTMENT" in p for p in problems)
    first = transactions["items"][0]
    assert errors_in({**first, "quantity": "1e3"},
                     "objects/transactions/issuance/StockIssuance.schema.json")
    assert errors_in({**first, "date": "2003-02-30"},
                     "objects/transactions/issuance/StockIssuance.schema.json")


def test_the_schemas_travel_with_their_licence() -> None:
    files = list(SCHEMAS.rglob("*.schema.json"))
    assert len(files) > 150
    for path in files:
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$comment"].startswith("Copyright © 2024 Open Cap Table Coalition"), path
    assert (SCHEMAS.parent / "LICENSE.md").is_file()


@pytest.mark.parametrize(("args", "code", "says"), [
    (["--format", "ocf", "-o", "{tmp}/p"], 2, "--issuer-name"),
    (["--format", "ocf", *ISSUER], 2, "-o DIR"),
    (["--format", "ocf", "-o", "{tmp}/p", *ISSUER, "--country", "USA"], 2, "country code"),
    (["--format", "ocf", "-o", "{tmp}/full", *ISSUER], 1, "not an empty directory"),
])
def test_bad_ocf_options(tmp_path: Path, args: list[str], code: int, says: str) -> None:
    db = str(tmp_path / "l.db")
    assert invoke("--db", db, "demo").code == 0
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    r = invoke("--db", db, "export", *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert r.code == code and r.err.startswith("Error: ") and says in r.err, r.err
    assert len(r.err.splitlines()) == 1
    assert not (tmp_path / "p").exists()
    assert (tmp_path / "full" / "x").read_text() == "keep me"


def test_the_package_is_written_whole_and_private(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    assert invoke("--db", db, "demo").code == 0
    (tmp_path / "empty").mkdir()
    files = export(db, tmp_path / "empty")
    assert validate_package(files) == []
    assert (tmp_path / "empty").stat().st_mode & 0o077 == 0
    assert all((tmp_path / "empty" / name).stat().st_mode & 0o077 == 0 for name in files)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
