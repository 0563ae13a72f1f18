"""`finledger export --format ocf -o DIR`: the ledger as an Open Cap Table Format package.

The package is built by `projections.ocf` and validated against the OCF 1.2.0 schemas
(`projections.ocf_schema`) before anything is written: a package that would not validate is
refused, naming its first problem. The files are written into a new directory beside DIR
(readable by its owner only: it names every holder) and renamed into place, so DIR is the
whole package or is not there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import typer

from cli.console import err
from cli.context import ledger
from ledger.errors import InvalidInput, InvariantViolation


def export_ocf(
    ctx: typer.Context, output: Path | None, issuer_name: str | None,
    formation_date: date | None, country: str,
) -> None:
    from cli.report import judge_date
    from ledger.inputs import clean_name
    from projections.ocf import Issuer, package
    from projections.ocf_schema import validate_package

    missing = [name for name, value in (("-o DIR", output), ("--issuer-name", issuer_name),
                                        ("--formation-date", formation_date)) if value is None]
    if missing:
        raise typer.BadParameter(
            f"--format ocf needs {', '.join(missing)}, like: finledger export --format ocf "
            "-o spectrum-ocf --issuer-name 'Spectrum Pharmaceuticals, Inc.' "
            "--formation-date 1987-01-01", param_hint="'--format'")
    assert output is not None and issuer_name is not None and formation_date is not None
    code = country.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise typer.BadParameter(f"{country!r} is not a two-letter country code, like US",
                                 param_hint="'--country'")
    issuer = Issuer(clean_name(issuer_name, "--issuer-name"), formation_date, code)
    target = output.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(f"{str(output)!r} already exists and is not an empty directory; "
                           "give a new directory for the package")
    with ledger(ctx) as book:
        events = book.events()
        head = book.head()
    latest = max((e.effective_date for e in events), default=None)
    files = package(events, issuer, as_of=judge_date(latest), generated_at=datetime.now(UTC),
                    head=head)
    problems = validate_package(files)
    if problems:
        raise InvariantViolation(
            f"the OCF package would not validate against the OCF 1.2.0 schemas "
            f"({len(problems)} problem(s), the first: {problems[0]}); nothing was written")
    _write(files, target, output)
    err().print(f"Exported {len(events)} events to {output} as an OCF 1.2.0 package "
                f"({len(files)} files, validated)", markup=False)


def _write(files: dict[str, bytes], target: Path, shown: Path) -> None:
    try:
        temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise InvalidInput(f"cannot write {str(shown)!r}: {exc.strerror}") from None
    try:
        for name, data in files.items():
            path = temporary / name
            path.write_bytes(data)
            path.chmod(0o600)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(temporary)
        raise InvalidInput(f"cannot write {str(shown)!r}: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(temporary)
        raise
