"""Helpline and emergency numbers (``responses/helplines.yml``): the only place they are written."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.languages import Language


class Helplines(BaseModel):
    model_config = ConfigDict(extra="ignore")

    numbers: dict[str, dict[Language, str]]
    crisis: list[str]
    danger_now: list[str]
    report: list[str] = ["112", "102", "150", "111"]

    def lines(self, which: list[str], language: Language) -> list[str]:
        return [self.numbers[number][language] for number in which]

    def crisis_lines(self, language: Language) -> list[str]:
        return self.lines(self.crisis, language)

    def danger_now_lines(self, language: Language) -> list[str]:
        return self.lines(self.danger_now, language)

    def report_lines(self, language: Language) -> list[str]:
        return self.lines(self.report, language)
