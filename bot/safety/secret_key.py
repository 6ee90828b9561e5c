"""The key behind pseudonyms and encryption at rest."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "secret.key"


class SecretKeyMissing(RuntimeError):
    pass


def load_or_create_secret_key(configured: str | None, var_dir: Path, *, production: bool) -> bytes:
    """The configured key; else, for the embedded default only, one generated once into var/.

    In production (PostgreSQL) a generated key would silently change every pseudonym when the
    container is replaced, so it must be configured.
    """
    if configured:
        return configured.encode()
    if production:
        raise SecretKeyMissing(
            "SYRLAS_SECRET_KEY is required with a PostgreSQL database (see README: Settings)"
        )
    path = var_dir / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    # Created with 0600 from the start: never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
