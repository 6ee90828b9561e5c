"""Anonymous abuse reports: the places to choose from, and the desk the dialogue calls.

The desk is transport-free; the agency chat adapter (Telegram) carries reports out through
the outbox in ``bot/storage/reports.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.dialogue.messages import Button, Reply
from bot.i18n import Catalogs, Translator
from bot.languages import Language
from bot.storage.reports import PostItem, ReportDraft, ReportRecord, ReportRepository
from bot.storage.tickets import TicketRepository


@dataclass(frozen=True)
class Region:
    id: str
    names: dict[Language, str]


@dataclass(frozen=True)
class Regions:
    regions: tuple[Region, ...]

    @classmethod
    def load(cls, path: Path) -> Regions:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(
            tuple(
                Region(item["id"], {lang: item[lang.value] for lang in Language})
                for item in raw.get("regions", [])
            )
        )

    def name(self, region_id: str | None, language: Language) -> str | None:
        for region in self.regions:
            if region.id == region_id:
                return region.names[language]
        return None


@dataclass
class ReportDesk:
    reports: ReportRepository
    regions: Regions

    async def submit(self, draft: ReportDraft) -> tuple[ReportRecord, str]:
        return await self.reports.create(draft)

    async def status(self, number: str, code: str) -> ReportRecord | None:
        return await self.reports.check(number, code)

    async def add(self, number: str, code: str, text: str) -> ReportRecord | None:
        report = await self.reports.check(number, code)
        if report is not None:
            await self.reports.add(report, text)
        return report


REPOST_AFTER = dt.timedelta(minutes=15)  # a report nobody confirmed is posted again
LEASE = dt.timedelta(seconds=60)
AGENCY_ROLE = "agency"


@dataclass(frozen=True)
class AgencyPost:
    item: PostItem
    reply: Reply


@dataclass
class AgencyDesk:
    """The agency chat's side, transport-free: what to post, and what a button press means.
    Only ids registered with ``syrlas agency add`` may confirm."""

    reports: ReportRepository
    tickets: TicketRepository  # where registered members are kept (role "agency")
    regions: Regions
    catalogs: Catalogs
    language: Language = Language.RU
    repost_after: dt.timedelta = REPOST_AFTER

    @property
    def tr(self) -> Translator:
        return self.catalogs(self.language)

    async def pending(self) -> list[AgencyPost]:
        return [
            AgencyPost(item, self.compose(item))
            for item in await self.reports.claim_due(self.repost_after, LEASE)
        ]

    def compose(self, item: PostItem) -> Reply:
        tr, report = self.tr, item.report
        answers = {
            None: tr.gettext("not said"),
            "self": tr.gettext("the child who wrote"),
            "other": tr.gettext("another child"),
            "yes": tr.gettext("YES, right now"),
            "no": tr.gettext("no"),
            "unknown": tr.gettext("does not know"),
        }
        if item.addition is not None:
            head = tr.gettext("Addition to anonymous report %(number)s:") % {
                "number": report.number
            }
            text = f"{head}\n{item.addition}"
        else:
            lines = [
                tr.gettext("Anonymous report %(number)s (from the Syrlas bot)")
                % {"number": report.number},
                tr.gettext("Child in danger now: %(answer)s")
                % {"answer": answers.get(report.danger_now, report.danger_now)},
                tr.gettext("Who is hurt: %(answer)s")
                % {"answer": answers.get(report.who, report.who)},
                tr.gettext("Where: %(region)s")
                % {
                    "region": self.regions.name(report.region, self.language)
                    or report.region
                    or answers[None]
                },
                tr.gettext("Place: %(place)s") % {"place": report.place or answers[None]},
                tr.gettext("Language of the report: %(language)s") % {"language": report.language},
                "",
                tr.gettext("What happened:"),
                report.what or answers[None],
            ]
            text = "\n".join(lines)
        if item.posts:
            text = tr.gettext("🔁 Sent again: nobody has confirmed it yet.") + "\n\n" + text
        text += "\n\n" + tr.gettext(
            "The reporter is anonymous: Syrlas does not know who they are. Please confirm "
            "receipt with the button."
        )
        return Reply(
            text,
            (
                Button(tr.gettext("✅ Received"), f"ra:ack:{item.id}"),
                Button(tr.gettext("Action taken"), f"ra:acted:{report.id}"),
            ),
        )

    async def press(self, member_id: int, action: str) -> str | None:
        """A button in the agency chat; None: not a registered member, nothing happens."""
        member = await self.tickets.consultant(member_id)
        if member is None or member.role != AGENCY_ROLE:
            return None
        tr = self.tr
        parts = action.split(":")
        if len(parts) != 3 or not parts[2].isdigit():
            return tr.gettext("This button is no longer valid.")
        if parts[1] == "ack":
            report = await self.reports.acknowledge(int(parts[2]))
            return (
                tr.gettext("Thank you, confirmed.") if report else tr.gettext("Already confirmed.")
            )
        if parts[1] == "acted":
            report = await self.reports.mark_acted(int(parts[2]))
            return tr.gettext("Marked as acted on.") if report else tr.gettext("Already marked.")
        return tr.gettext("This button is no longer valid.")
