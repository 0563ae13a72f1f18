"""`finledger export --format ocf -o DIR`: the ledger as an Open Cap Table Format package.

The package is built and validated against the OCF 1.2.0 schemas before anything is written
(`app.service.Service.export_ocf`): a package that would not validate is refused, naming its
first problem. The files are written into a new directory beside DIR (readable by its owner
only: it names every holder) and renamed into place, so DIR is the whole package or is not
there.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from cli.console import err
from cli.context import service


def export_ocf(
    ctx: typer.Context, output: Path | None, issuer_name: str | None,
    formation_date: date | None, country: str,
) -> None:
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
    written = service(ctx).export_ocf(issuer_name, formation_date, code, output)
    err().print(f"Exported {written.events} events to {output} as an OCF 1.2.0 package "
                f"({written.files} files, validated)", markup=False)
