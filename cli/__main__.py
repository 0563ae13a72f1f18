"""`python -m cli` is `finledger`."""

from cli.main import run

run()
