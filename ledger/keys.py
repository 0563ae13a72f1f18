"""Telling the right FINLEDGER_KEY from a wrong one before anything is read or written.

An encrypted ledger keeps, in `finledger_meta`, a known token encrypted with its key (AES-GCM
authenticates, so only the same key decrypts it). Opening with another key is refused at
once, with one clear line, instead of failing later on the first event, and, on a ledger
with no events yet, instead of silently appending events under a second key.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from binascii import Error as Base64Error
from typing import Any

KEY_CHECK_ROW = "key_check"
KEY_CHECK_TOKEN = b"finledger: this ledger's key"


def key_check_value(cipher: Any) -> str:
    """The token encrypted with this key, for the meta table."""
    return b64encode(cipher.encrypt(KEY_CHECK_TOKEN)).decode("ascii")


def key_fits(cipher: Any, value: str) -> bool:
    """Does this key decrypt the ledger's stored key check?"""
    try:
        return bool(cipher.decrypt(b64decode(value.encode("ascii"))) == KEY_CHECK_TOKEN)
    except (ValueError, Base64Error):
        return False
