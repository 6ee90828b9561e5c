"""Users are known only by a keyed hash of their channel id: no id, name or phone is stored."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class Pseudonymizer:
    key: bytes

    def __call__(self, channel: str, user_id: int | str) -> str:
        message = f"{channel}:{user_id}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()
