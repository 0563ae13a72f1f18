"""Projections: the books folded from the event stream, the reports built from them, and the
read model that keeps the books materialized in tables of the ledger file."""
