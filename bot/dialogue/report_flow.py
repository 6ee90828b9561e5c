"""The anonymous report flow (/report, the report_abuse topic): who, what, where, danger now.

Every step can be skipped. Nothing said in the flow is written to the conversation log, and the
draft leaves the user's state the moment it is submitted: in storage, a report is never linked
to whoever sent it. The reporter keeps a number and a one-time code to check on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.dialogue.messages import Button, Reply
from bot.dialogue.state import ConversationState
from bot.i18n import Translator
from bot.knowledge.helplines import Helplines
from bot.storage.errors import StorageUnavailable
from bot.storage.reports import ReportDraft, ReportRecord

if TYPE_CHECKING:
    from bot.safety.reports import ReportDesk

log = logging.getLogger(__name__)

STEPS = ("who", "what", "where", "place", "danger")
TEXT_STEPS = {"what", "place"}
MAX_FIELD_CHARS = 3000
STATUS_WORDS = ("status", "статус", "мәртебе")
ADD_WORDS = ("add", "добавить", "қосу")


@dataclass(frozen=True)
class ReportFlow:
    desk: ReportDesk | None
    helplines: Helplines

    # --- the questions ---------------------------------------------------------------------
    def _buttons(self, tr: Translator, *extra: Button) -> tuple[Button, ...]:
        return (
            *extra,
            Button(tr.gettext("Skip"), "rf:skip"),
            Button(tr.gettext("Cancel"), "rf:cancel"),
        )

    def _numbers(self, tr: Translator, heading: str) -> str:
        return "\n".join(
            [heading, *(f"• {line}" for line in self.helplines.report_lines(tr.language))]
        )

    def ask(self, step: str, tr: Translator) -> Reply:
        if step == "who":
            return Reply(
                tr.gettext("Who is being hurt?"),
                self._buttons(
                    tr,
                    Button(tr.gettext("Me"), "rf:who:self"),
                    Button(tr.gettext("Another child"), "rf:who:other"),
                ),
            )
        if step == "what":
            return Reply(
                tr.gettext(
                    "What happened? Write it in your own words, as much as you want to say. "
                    "You don't have to write names."
                ),
                self._buttons(tr),
            )
        if step == "where":
            assert self.desk is not None
            regions = tuple(
                Button(region.names[tr.language], f"rf:where:{region.id}")
                for region in self.desk.regions.regions
            )
            return Reply(
                tr.gettext("Where did it happen? Choose the city or region."),
                self._buttons(tr, *regions),
            )
        if step == "place":
            return Reply(
                tr.gettext("Is there a school, a town or another place to add? Write it, or skip."),
                self._buttons(tr),
            )
        return Reply(
            tr.gettext("Is the child in danger right now?"),
            (
                Button(tr.gettext("Yes, right now"), "rf:danger:yes"),
                Button(tr.gettext("No"), "rf:danger:no"),
                Button(tr.gettext("I don't know"), "rf:danger:unknown"),
                Button(tr.gettext("Cancel"), "rf:cancel"),
            ),
        )

    # --- the flow ---------------------------------------------------------------------------
    def start(self, state: ConversationState, tr: Translator) -> list[Reply]:
        intro = tr.gettext(
            "You can report violence against a child here anonymously: the report does not "
            "include your name or account, and Syrlas keeps no link between you and it. It goes "
            "to the service that protects children."
        )
        if self.desk is None:
            unavailable = tr.gettext(
                "Reports cannot be sent from here right now. Please call or write to 111 "
                "(anonymous), or call 150."
            )
            return [
                Reply(
                    "\n\n".join(
                        [
                            self._numbers(
                                tr, tr.gettext("If a child is in danger right now, call:")
                            ),
                            unavailable,
                        ]
                    )
                )
            ]
        state.awaiting, state.report = "report:who", {}
        return [
            Reply(
                "\n\n".join(
                    [
                        self._numbers(tr, tr.gettext("If a child is in danger right now, call:")),
                        intro,
                    ]
                )
            ),
            self.ask("who", tr),
        ]

    def cancel(self, state: ConversationState, tr: Translator) -> list[Reply]:
        state.awaiting, state.report = None, {}
        return [Reply(tr.gettext("The report was not sent. Nothing about it was kept."))]

    async def answer(
        self, state: ConversationState, tr: Translator, value: str | None
    ) -> list[Reply]:
        """``value`` answers the current step (None: skipped); then the next question, or the
        report is sent."""
        step = (state.awaiting or "").removeprefix("report:")
        if step not in STEPS:
            return []
        if value is not None:
            state.report[step] = value[:MAX_FIELD_CHARS]
        replies: list[Reply] = []
        if step == "danger" and value == "yes":
            replies.append(
                Reply(
                    self._numbers(
                        tr,
                        tr.gettext(
                            "Call now, before anything else: the police and help come faster "
                            "than a report."
                        ),
                    )
                )
            )
        following = STEPS[STEPS.index(step) + 1 :]
        if following:
            state.awaiting = f"report:{following[0]}"
            return [*replies, self.ask(following[0], tr)]
        return [*replies, *await self._submit(state, tr)]

    async def _submit(self, state: ConversationState, tr: Translator) -> list[Reply]:
        assert self.desk is not None
        answers = state.report
        draft = ReportDraft(
            language=tr.language,
            who=answers.get("who"),
            what=answers.get("what"),
            region=answers.get("where"),
            place=answers.get("place"),
            danger_now=answers.get("danger"),
        )
        state.awaiting, state.report = None, {}  # the draft leaves the user's state now
        try:
            report, code = await self.desk.submit(draft)
        except StorageUnavailable as exc:
            log.warning("report not stored: %s", exc)
            return [
                Reply(
                    "\n\n".join(
                        [
                            tr.gettext(
                                "Sorry, a technical problem: the report was not sent. Please try "
                                "/report again in a few minutes, or call 111."
                            ),
                            self._numbers(
                                tr, tr.gettext("If a child is in danger right now, call:")
                            ),
                        ]
                    )
                )
            ]
        return [
            Reply(
                tr.gettext(
                    "Thank you. Your report number is %(number)s and your one-time code is "
                    "%(code)s. Write them down: the code is shown only now and nobody, not even "
                    "Syrlas, can show it again.\n\nTo see whether the report was received and "
                    "acted on, send: /report status %(number)s %(code)s\nTo add something later, "
                    "send: /report add %(number)s %(code)s and your text."
                )
                % {"number": report.number, "code": code}
            )
        ]

    # --- status and additions ----------------------------------------------------------------
    async def command(self, args: str, tr: Translator) -> list[Reply] | None:
        """``/report status N C`` or ``/report add N C text``; None: not such a command."""
        words = args.split()
        if not words or words[0].lower() not in (*STATUS_WORDS, *ADD_WORDS):
            return None
        if self.desk is None:
            return self.start(ConversationState(), tr)
        if len(words) < 3 or (words[0].lower() in ADD_WORDS and len(words) < 4):
            return [
                Reply(
                    tr.gettext(
                        "Please send: /report status <number> <code>, or "
                        "/report add <number> <code> <text>."
                    )
                )
            ]
        number, code = words[1], words[2]
        try:
            if words[0].lower() in ADD_WORDS:
                text = args.split(None, 3)[3][:MAX_FIELD_CHARS]
                report = await self.desk.add(number, code, text)
                if report is not None:
                    return [
                        Reply(
                            tr.gettext("Added to report %(number)s. Thank you.")
                            % {"number": report.number}
                        )
                    ]
            else:
                report = await self.desk.status(number, code)
                if report is not None:
                    return [self.status(report, tr)]
        except StorageUnavailable as exc:
            log.warning("report status failed: %s", exc)
            return [
                Reply(tr.gettext("Sorry, a technical problem. Please try again in a few minutes."))
            ]
        return [
            Reply(tr.gettext("No report matches this number and code. Check both and try again."))
        ]

    def status(self, report: ReportRecord, tr: Translator) -> Reply:
        words = {
            "received": tr.gettext("received by Syrlas, waiting for the service to confirm"),
            "acknowledged": tr.gettext("the service confirmed it has your report"),
            "acted": tr.gettext("the service has acted on your report"),
        }
        return Reply(
            tr.gettext("Report %(number)s: %(status)s.")
            % {"number": report.number, "status": words.get(report.status, report.status)}
        )
