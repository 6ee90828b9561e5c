"""Settings: environment variables (prefix ``SYRLAS_``) or a ``.env`` file at the project root.

The public names are fixed by CONTRACT.md; the rest are operator knobs documented in the README.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The package is installed editable from the checkout, so the project root is the package's parent.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "syrlas"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SYRLAS_",
        env_file=str(PROJECT_ROOT / ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # --- CONTRACT.md -------------------------------------------------------------------------
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite:///var/syrlas.db"
    nlu_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    consultants_chat_id: int | None = None
    reports_chat_id: int | None = None
    secret_key: SecretStr | None = None

    # --- operator knobs (README) -------------------------------------------------------------
    home: Path = PROJECT_ROOT
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    nlu_token: SecretStr | None = None  # auth token of an external Rasa server (SYRLAS_NLU_URL)
    rasa_bin: Path | None = None  # default: <home>/.venv-nlu/bin/rasa
    nlu_timeout: float = 5.0  # seconds for one parse before the user is told we are slow
    nlu_start_timeout: float = 180.0  # seconds to wait for a self-started Rasa server
    log_level: str = "INFO"
    # consultants (README: Consultants)
    consultants_language: str = "ru"  # the language of the consultants' chat
    consultant_hours: dict[str, str] = Field(
        default_factory=lambda: {"default": "mon-sat 09:00-21:00"}
    )  # per pool (default, doctor, psychologist, lawyer): "mon-fri 09:00-18:00; sat 10:00-14:00"
    timezone: str = "Asia/Almaty"
    ticket_wait_minutes: dict[str, int] = Field(default_factory=dict)  # re-announce after
    answer_within_hours: int = 4  # what waiting users are told to expect, in working hours
    workspace_interval: float = 5.0  # seconds between outbox rounds (retries, re-announcements)
    reports_language: str = "ru"  # the language reports are posted in, to the agency chat
    # privacy (README: Privacy)
    message_retention_days: float = 1.0  # ordinary conversation text
    ticket_retention_days: float = 30.0  # a ticket's words, counted from its closing
    rate_limit_per_minute: int = 20  # messages a user may send before a slow-down notice

    @field_validator("telegram_token", "nlu_url", "webhook_url", "secret_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # --- derived paths -----------------------------------------------------------------------
    @property
    def var_dir(self) -> Path:
        return self.home / "var"

    @property
    def responses_dir(self) -> Path:
        return self.home / "responses"

    @property
    def nlu_data_dir(self) -> Path:
        return self.home / "nlu_data"

    @property
    def locales_dir(self) -> Path:
        return self.home / "locales"

    @property
    def nlu_config(self) -> Path:
        return self.home / "config.yml"

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def rasa_executable(self) -> Path:
        return self.rasa_bin or self.home / ".venv-nlu" / "bin" / "rasa"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with a relative SQLite path anchored at the project home."""
        from bot.storage.database import resolve_url

        return resolve_url(self.database_url, self.home)
