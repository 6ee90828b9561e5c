"""The chat id needed to answer a user, encrypted at rest (Fernet, key derived from the secret).

A leaked database alone then holds no Telegram id: pseudonyms are keyed hashes and chat
references are ciphertext under a key that lives outside the database.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


@dataclass(frozen=True)
class ChatSeal:
    secret: bytes

    @property
    def _fernet(self) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(_derive(self.secret, b"syrlas chat reference")))

    def seal(self, chat_id: int) -> bytes:
        return self._fernet.encrypt(str(chat_id).encode())

    def open(self, sealed: bytes | None) -> int | None:
        """None when missing or sealed under another key (e.g. after a key rotation)."""
        if not sealed:
            return None
        try:
            return int(self._fernet.decrypt(sealed).decode())
        except (InvalidToken, ValueError):
            return None
