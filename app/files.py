"""The files a command writes beside the ledger (`ledger.files`): private to their owner,
replaced whole or not at all."""

from ledger.files import private_binary_output

__all__ = ["private_binary_output"]
