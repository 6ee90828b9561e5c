"""Ready answers for consultants (``responses/canned.yml``), reviewed like every other text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.languages import LANGUAGES, Language


class CannedReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: dict[Language, str]
    text: dict[Language, str] = Field(min_length=1)


@dataclass(frozen=True)
class CannedReplies:
    replies: dict[str, CannedReply]

    @classmethod
    def load(cls, path: Path) -> CannedReplies:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls({name: CannedReply(**item) for name, item in (raw.get("canned") or {}).items()})

    def text(self, name: str, language: Language) -> str | None:
        reply = self.replies.get(name.lower())
        return reply.text.get(language) if reply else None

    def catalogue(self, language: Language) -> list[tuple[str, str]]:
        return [(name, r.description.get(language, "")) for name, r in sorted(self.replies.items())]

    def problems(self) -> list[str]:
        """For `syrlas kb check`: every ready answer in every language."""
        return [
            f"canned reply {name}: no {what} in {language}"
            for name, reply in sorted(self.replies.items())
            for what, texts in (("text", reply.text), ("description", reply.description))
            for language in LANGUAGES
            if not texts.get(language, "").strip()
        ]
