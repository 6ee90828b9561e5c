"""The shape of a curated answer file (``responses/topics/<id>.yml``), validated with pydantic."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from bot.languages import Language

MAX_TEXT = 900  # one phone screen for the first message
MAX_MORE = 1500


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    title: str = ""
    url: str = Field(pattern=r"^https?://\S+$")


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    more: str | None = Field(default=None, max_length=MAX_MORE)
    danger_signs: list[str] = Field(default_factory=list)


class TopicContent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    revision: int = Field(ge=1)
    last_reviewed: dt.date
    reviewed_by: str = Field(min_length=1)
    title: dict[Language, str] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    # language -> reader ("any", or "teen" and "parent") -> the text
    answers: dict[Language, dict[str, Variant]]

    def variant(self, language: Language, audience: str | None) -> Variant | None:
        by_reader = self.answers.get(language)
        if not by_reader:
            return None
        if audience and audience in by_reader:
            return by_reader[audience]
        if "any" in by_reader:
            return by_reader["any"]
        return next(iter(by_reader.values()))
