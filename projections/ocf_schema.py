"""Validating an OCF package against the official OCF 1.2.0 JSON Schemas.

The schemas travel with the project, unchanged, in `projections/ocf_schema/schema/` (each
file keeps its `$comment` notice; LICENSE.md beside them). `$ref`s are resolved locally by
`$id` through a `referencing.Registry` of those files, never over the network. A package is
valid when its manifest validates as `OCF_MANIFEST_FILE`, every file it names exists, has
the md5 the manifest states and validates against the schema of its `file_type`, and every
object in it against the schema of its `object_type`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).parent / "ocf_schema" / "schema"
BASE = "https://schema.opencaptablecoalition.com/v/1.2.0/"

FILE_SCHEMAS = {
    "OCF_MANIFEST_FILE": "files/OCFManifestFile.schema.json",
    "OCF_STAKEHOLDERS_FILE": "files/StakeholdersFile.schema.json",
    "OCF_STOCK_CLASSES_FILE": "files/StockClassesFile.schema.json",
    "OCF_TRANSACTIONS_FILE": "files/TransactionsFile.schema.json",
    "OCF_FINANCINGS_FILE": "files/FinancingsFile.schema.json",
    "OCF_STOCK_PLANS_FILE": "files/StockPlansFile.schema.json",
    "OCF_STOCK_LEGEND_TEMPLATES_FILE": "files/StockLegendTemplatesFile.schema.json",
    "OCF_VESTING_TERMS_FILE": "files/VestingTermsFile.schema.json",
    "OCF_VALUATIONS_FILE": "files/ValuationsFile.schema.json",
    "OCF_DOCUMENTS_FILE": "files/DocumentsFile.schema.json",
}
MANIFEST_FILE_LISTS = (
    "stock_plans_files", "stock_legend_templates_files", "stock_classes_files",
    "vesting_terms_files", "valuations_files", "transactions_files", "stakeholders_files",
    "financings_files", "documents_files",
)


@functools.cache
def _schemas() -> dict[str, dict[str, Any]]:
    """Every schema by its `$id`."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(SCHEMAS.rglob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        found[schema["$id"]] = schema
    return found


@functools.cache
def _object_schemas() -> dict[str, str]:
    """object_type -> the `$id` of the schema of that object."""
    by_type: dict[str, str] = {}
    for ident, schema in _schemas().items():
        if "/objects/" not in ident or "/primitives/" in ident:
            continue
        const = schema.get("properties", {}).get("object_type", {}).get("const")
        if isinstance(const, str):
            by_type[const] = ident
    return by_type


@functools.cache
def _validator(ident: str) -> Any:
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    registry: Registry[Any] = Registry().with_resources(
        (key, Resource.from_contents(schema, default_specification=DRAFT7))
        for key, schema in _schemas().items()
    )
    return Draft7Validator(_schemas()[ident], registry=registry,
                           format_checker=Draft7Validator.FORMAT_CHECKER)


def errors_in(document: Any, ident: str) -> list[str]:
    """What is wrong with `document` against the schema `ident` (a `$id`, or a path under
    the schema root), each as `where: message`; empty when it validates."""
    ident = ident if ident.startswith("https://") else BASE + ident
    found = []
    for error in sorted(_validator(ident).iter_errors(document), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        found.append(f"{where}: {error.message[:300]}")
    return found


def validate_package(files: Mapping[str, bytes], manifest: str = "Manifest.ocf.json") -> list[str]:
    """Every problem of the package whose files (name -> bytes) are given; empty if valid."""
    problems: list[str] = []

    def load(name: str) -> Any:
        try:
            return json.loads(files[name])
        except KeyError:
            problems.append(f"{name}: missing")
        except ValueError as exc:
            problems.append(f"{name}: not JSON ({exc})")
        return None

    top = load(manifest)
    if top is None:
        return problems
    problems += [f"{manifest}: {p}" for p in errors_in(top, FILE_SCHEMAS["OCF_MANIFEST_FILE"])]
    for key in MANIFEST_FILE_LISTS:
        for entry in top.get(key, []) if isinstance(top, dict) else []:
            name = entry.get("filepath") if isinstance(entry, dict) else None
            if not isinstance(name, str):
                continue
            document = load(name)
            if document is None:
                continue
            if hashlib.md5(files[name], usedforsecurity=False).hexdigest() != entry.get("md5"):
                problems.append(f"{name}: its md5 is not the one the manifest states")
            file_type = document.get("file_type") if isinstance(document, dict) else None
            schema = FILE_SCHEMAS.get(str(file_type))
            if schema is None:
                problems.append(f"{name}: unknown file_type {file_type!r}")
                continue
            problems += [f"{name}: {p}" for p in errors_in(document, schema)]
            for index, item in enumerate(document.get("items", [])):
                kind = item.get("object_type") if isinstance(item, dict) else None
                ident = _object_schemas().get(str(kind))
                if ident is None:
                    problems.append(f"{name}: items/{index}: unknown object_type {kind!r}")
                    continue
                problems += [f"{name}: items/{index} ({kind}): {p}"
                             for p in errors_in(item, ident)]
    return problems
