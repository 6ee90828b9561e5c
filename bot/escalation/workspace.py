"""The consultants' side: what a consultant did in their chat in, what to post and send out.

Transport-free like the dialogue core. The Telegram adapter turns forum-topic updates into
``ConsultantInput`` and carries out ``WorkspaceOutcome``; ``pending`` is the outbox round that
announces new tickets, re-announces forgotten ones and relays messages both ways.

Nothing posted here carries a user's identity: a ticket is its number, language, audience,
topic guess and words. Consultants appear to users only by their role.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.dialogue.compose import Composer, role_name
from bot.dialogue.messages import Button, Reply
from bot.escalation.canned import CannedReplies
from bot.escalation.policy import RAISE, EscalationPolicy
from bot.i18n import Catalogs, Translator
from bot.languages import LANGUAGE_NAMES, Language, parse_language
from bot.storage.repository import USER_LEFT
from bot.storage.tickets import (
    ROLES,
    ConsultantRecord,
    OutboxItem,
    TicketRecord,
    TicketRepository,
)

PRIORITY_MARK = {"crisis": "🔴", "urgent": "🟠", "normal": "🟢"}
TOPIC_TITLE_LIMIT = 128
CLOSE_REASONS = ("answered", "referred", "no_reply", "duplicate", "out_of_scope")
QUEUE_LIMIT = 30


@dataclass(frozen=True)
class ConsultantInput:
    consultant_id: int
    display_name: str
    thread_id: int | None  # the forum topic it happened in; None: the General topic
    text: str = ""
    command: str | None = None  # "queue", "mine", "canned", "note", "close", "help"
    args: str = ""
    action: str | None = None  # a button: "tk:<verb>:<ticket id>[:<arg>]"
    media: bool = False  # a photo, sticker...: never relayed


@dataclass(frozen=True)
class ToThread:
    thread_id: int | None  # None: the General topic
    reply: Reply


@dataclass(frozen=True)
class ToUser:
    pseudonym: str
    reply: Reply


@dataclass(frozen=True)
class TopicChange:
    thread_id: int
    title: str | None = None  # rename
    closed: bool | None = None  # close (True) or reopen (False)


@dataclass(frozen=True)
class NewTopic:
    """Open a forum topic for this ticket, then post ``first_post`` in it."""

    ticket: TicketRecord
    title: str
    first_post: Reply


@dataclass
class WorkspaceOutcome:
    notice: str | None = None  # a short answer to a button press (a toast)
    posts: list[ToThread] = field(default_factory=list)
    to_users: list[ToUser] = field(default_factory=list)
    topics: list[TopicChange] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    """One outbox message to carry out; report back with ``delivered``."""

    item: OutboxItem
    to_thread: ToThread | None = None
    to_user: ToUser | None = None
    reopen_topic: bool = False


@dataclass(frozen=True)
class Round:
    new_topics: list[NewTopic]
    reannounced: WorkspaceOutcome
    deliveries: list[Delivery]


@dataclass
class Workspace:
    tickets: TicketRepository
    policy: EscalationPolicy
    catalogs: Catalogs
    composer: Composer
    canned: CannedReplies
    language: Language = Language.RU  # the consultants' working language

    @property
    def tr(self) -> Translator:
        return self.catalogs(self.language)

    def user_tr(self, ticket: TicketRecord) -> Translator:
        return self.catalogs(parse_language(ticket.language) or Language.RU)

    # --- how a ticket looks to consultants -----------------------------------------------------
    def title(self, ticket: TicketRecord) -> str:
        tr = self.tr
        parts = [
            f"#{ticket.number}",
            f"{PRIORITY_MARK.get(ticket.priority, '')} {self._priority(ticket.priority)}",
            ticket.language,
            role_name(tr, ticket.role),
        ]
        if ticket.topic:
            parts.append(self.composer.knowledge.title(ticket.topic, self.language))
        return " · ".join(parts)[:TOPIC_TITLE_LIMIT]

    def _priority(self, priority: str) -> str:
        tr = self.tr
        return {
            "crisis": tr.gettext("crisis"),
            "urgent": tr.gettext("urgent"),
            "normal": tr.gettext("normal"),
        }.get(priority, priority)

    def _audience(self, audience: str | None) -> str:
        tr = self.tr
        return {"teen": tr.gettext("teenager"), "parent": tr.gettext("parent")}.get(
            audience or "", tr.gettext("not said")
        )

    def _local(self, when: dt.datetime) -> str:
        zone = self.policy.hours_for("default").zone
        return self.tr.datetime(when.astimezone(zone))

    def ticket_buttons(self, ticket: TicketRecord) -> tuple[Button, ...]:
        tr = self.tr
        return (
            Button(tr.gettext("Take"), f"tk:take:{ticket.id}"),
            Button(tr.gettext("Close"), f"tk:close:{ticket.id}"),
            Button(tr.gettext("Return to queue"), f"tk:back:{ticket.id}"),
        )

    async def first_post(self, ticket: TicketRecord) -> Reply:
        tr = self.tr
        language = parse_language(ticket.language)
        mark = PRIORITY_MARK.get(ticket.priority, "")
        header = [
            tr.gettext("Ticket #%(number)s") % {"number": ticket.number},
            tr.gettext("Priority: %(priority)s")
            % {"priority": f"{mark} {self._priority(ticket.priority)}"},
            tr.gettext("Language: %(language)s · %(audience)s")
            % {
                "language": LANGUAGE_NAMES[language] if language else ticket.language,
                "audience": self._audience(ticket.audience),
            },
            tr.gettext("Topic (the bot's guess): %(topic)s")
            % {
                "topic": self.composer.knowledge.title(ticket.topic, self.language)
                if ticket.topic
                else "—"
            },
            tr.gettext("For: %(role)s") % {"role": role_name(tr, ticket.role)},
            tr.gettext("Opened: %(time)s") % {"time": self._local(ticket.created_at)},
        ]
        parts = ["\n".join(header)]
        parts.append(tr.gettext("Question:") + "\n" + (ticket.question or "—"))
        context = [
            line
            for line in await self.tickets.lines(ticket.id)
            if line.author.startswith("context_")
        ]
        if context:
            shown = [
                ("👤 " if line.author == "context_user" else "🤖 ") + line.text for line in context
            ]
            parts.append(tr.gettext("Conversation before:") + "\n" + "\n".join(shown))
        parts.append(
            tr.gettext(
                "Take the ticket, then write here: your messages go to the user, signed with "
                "your role only. /note keeps a note for colleagues, /canned lists ready answers, "
                "/close ends it."
            )
        )
        return Reply("\n\n".join(parts), self.ticket_buttons(ticket))

    # --- the outbox round ---------------------------------------------------------------------
    async def pending(self) -> Round:
        new_topics = [
            NewTopic(ticket, self.title(ticket), await self.first_post(ticket))
            for ticket in await self.tickets.claim_unannounced(self.policy.lease)
        ]
        reannounced = WorkspaceOutcome()
        for ticket in await self.tickets.claim_overdue(self.policy.waits, RAISE):
            minutes = int((self.tickets.clock() - ticket.created_at).total_seconds() // 60)
            text = (
                self.tr.gettext("⏰ Ticket #%(number)s is still waiting. Priority: %(priority)s.")
                % {"number": ticket.number, "priority": self._priority(ticket.priority)}
                + " "
                + self.tr.ngettext(
                    "Waiting for %(n)s minute.", "Waiting for %(n)s minutes.", minutes
                )
            )
            assert ticket.thread_id is not None
            reannounced.topics.append(TopicChange(ticket.thread_id, title=self.title(ticket)))
            reannounced.posts.append(
                ToThread(ticket.thread_id, Reply(text, self.ticket_buttons(ticket)))
            )
            reannounced.posts.append(ToThread(None, Reply(text)))
        deliveries = [
            self._delivery(item) for item in await self.tickets.claim_outbox(self.policy.lease)
        ]
        return Round(new_topics, reannounced, deliveries)

    def _delivery(self, item: OutboxItem) -> Delivery:
        ticket, tr = item.ticket, self.tr
        if item.author == "consultant":
            reply = self.composer.consultant_says(
                self.user_tr(ticket), item.consultant_role or "", item.text
            )
            if ticket.pseudonym is None:
                return Delivery(item)  # the user erased their data: nobody to send it to
            return Delivery(item, to_user=ToUser(ticket.pseudonym, reply))
        if item.author == "user":
            return Delivery(item, to_thread=ToThread(ticket.thread_id, Reply("👤 " + item.text)))
        # system lines are codes, worded here in the consultants' language
        code, _, arg = item.text.partition(":")
        words = {
            USER_LEFT: tr.gettext("The user left and erased their data. The ticket is closed."),
            "withdrawn": tr.gettext("The user withdrew the question. The ticket is closed."),
            "reopened": tr.gettext("The user still needs help: the ticket is back in the queue."),
            "priority": tr.gettext("Priority raised to %(priority)s.")
            % {"priority": self._priority(arg)},
        }
        text = "ℹ️ " + words.get(code, item.text)
        buttons = self.ticket_buttons(ticket) if code == "reopened" else ()
        return Delivery(
            item,
            to_thread=ToThread(ticket.thread_id, Reply(text, buttons)),
            reopen_topic=code == "reopened",
        )

    async def delivered(self, delivery: Delivery, *, ok: bool) -> None:
        if ok:
            await self.tickets.delivered(delivery.item.id)
        else:
            await self.tickets.undeliverable(delivery.item.id)

    async def topic_created(self, ticket: TicketRecord, thread_id: int) -> None:
        await self.tickets.set_thread(ticket.id, thread_id)

    async def topic_failed(self, ticket: TicketRecord) -> None:
        await self.tickets.release_announcement(ticket.id)

    # --- a consultant acted --------------------------------------------------------------------
    async def handle(self, event: ConsultantInput) -> WorkspaceOutcome | None:
        """None: not a registered consultant, so nothing happens at all."""
        consultant = await self.tickets.consultant(event.consultant_id)
        if consultant is None or consultant.role not in ROLES:  # agency members act elsewhere
            return None
        if event.display_name and event.display_name != consultant.display_name:
            await self.tickets.name_consultant(consultant.telegram_id, event.display_name)
        if event.action:
            return await self._on_button(consultant, event)
        if event.command:
            return await self._on_command(consultant, event)
        return await self._on_text(consultant, event)

    def _who(self, consultant: ConsultantRecord) -> str:
        name = consultant.display_name or str(consultant.telegram_id)
        return f"{name} ({role_name(self.tr, consultant.role)})"

    async def _holder(self, ticket: TicketRecord) -> str:
        if ticket.consultant_id is None:
            return "—"
        holder = await self.tickets.consultant(ticket.consultant_id)
        return self._who(holder) if holder else str(ticket.consultant_id)

    async def _on_button(
        self, consultant: ConsultantRecord, event: ConsultantInput
    ) -> WorkspaceOutcome:
        tr = self.tr
        parts = (event.action or "").split(":")
        if len(parts) < 3 or parts[0] != "tk" or not parts[2].isdigit():
            return WorkspaceOutcome(notice=tr.gettext("This button is no longer valid."))
        verb, ticket_id = parts[1], int(parts[2])
        ticket = await self.tickets.get(ticket_id)
        if ticket is None:
            return WorkspaceOutcome(notice=tr.gettext("This ticket no longer exists."))
        if verb == "take":
            return await self._take(consultant, ticket)
        if verb == "back":
            return await self._return(consultant, ticket)
        if verb == "close":
            if len(parts) == 4 and parts[3] in CLOSE_REASONS:
                return await self._close(consultant, ticket, self._reason(parts[3]))
            return WorkspaceOutcome(
                posts=[
                    ToThread(
                        ticket.thread_id,
                        Reply(
                            tr.gettext("Why are you closing #%(number)s?")
                            % {"number": ticket.number},
                            tuple(
                                Button(self._reason(code), f"tk:close:{ticket.id}:{code}")
                                for code in CLOSE_REASONS
                            ),
                        ),
                    )
                ]
            )
        return WorkspaceOutcome(notice=tr.gettext("This button is no longer valid."))

    def _reason(self, code: str) -> str:
        tr = self.tr
        return {
            "answered": tr.gettext("answered"),
            "referred": tr.gettext("referred to a clinic or service"),
            "no_reply": tr.gettext("the user did not reply"),
            "duplicate": tr.gettext("duplicate"),
            "out_of_scope": tr.gettext("not for consultants"),
        }.get(code, code)

    async def _take(self, consultant: ConsultantRecord, ticket: TicketRecord) -> WorkspaceOutcome:
        tr = self.tr
        if await self.tickets.take(ticket.id, consultant.telegram_id):
            outcome = WorkspaceOutcome(
                notice=tr.gettext("The ticket is yours."),
                posts=[
                    ToThread(
                        ticket.thread_id,
                        Reply(
                            tr.gettext("✋ %(who)s took the ticket.")
                            % {"who": self._who(consultant)}
                        ),
                    )
                ],
            )
            if ticket.pseudonym:
                outcome.to_users.append(
                    ToUser(
                        ticket.pseudonym,
                        self.composer.consultant_took(self.user_tr(ticket), consultant.role),
                    )
                )
            return outcome
        current = await self.tickets.get(ticket.id) or ticket
        if current.consultant_id == consultant.telegram_id:
            return WorkspaceOutcome(notice=tr.gettext("The ticket is already yours."))
        if current.status == "closed":
            return WorkspaceOutcome(notice=tr.gettext("The ticket is closed."))
        return WorkspaceOutcome(
            notice=tr.gettext("Already taken by %(who)s.") % {"who": await self._holder(current)}
        )

    async def _return(self, consultant: ConsultantRecord, ticket: TicketRecord) -> WorkspaceOutcome:
        tr = self.tr
        if not await self.tickets.release(ticket.id, consultant.telegram_id):
            return WorkspaceOutcome(
                notice=tr.gettext("Only the consultant holding it can return it.")
            )
        outcome = WorkspaceOutcome(
            notice=tr.gettext("Returned to the queue."),
            posts=[
                ToThread(
                    ticket.thread_id,
                    Reply(
                        tr.gettext("↩️ %(who)s returned the ticket to the queue.")
                        % {"who": self._who(consultant)},
                        self.ticket_buttons(ticket),
                    ),
                )
            ],
        )
        if ticket.pseudonym:
            outcome.to_users.append(
                ToUser(
                    ticket.pseudonym,
                    self.composer.ticket_returned(self.user_tr(ticket), ticket.number),
                )
            )
        return outcome

    async def _close(
        self, consultant: ConsultantRecord, ticket: TicketRecord, reason: str
    ) -> WorkspaceOutcome:
        tr = self.tr
        if not await self.tickets.close(
            ticket.id, reason=reason, consultant_id=consultant.telegram_id
        ):
            current = await self.tickets.get(ticket.id) or ticket
            if current.status == "closed":
                return WorkspaceOutcome(notice=tr.gettext("The ticket is closed."))
            return WorkspaceOutcome(
                notice=tr.gettext("Only the consultant holding it can close it: %(who)s.")
                % {"who": await self._holder(current)}
            )
        outcome = WorkspaceOutcome(
            notice=tr.gettext("Closed."),
            posts=[
                ToThread(
                    ticket.thread_id,
                    Reply(
                        tr.gettext("✅ Closed by %(who)s: %(reason)s")
                        % {"who": self._who(consultant), "reason": reason}
                    ),
                )
            ],
        )
        if ticket.thread_id is not None:
            outcome.topics.append(TopicChange(ticket.thread_id, closed=True))
        if ticket.pseudonym:
            outcome.to_users.append(
                ToUser(
                    ticket.pseudonym,
                    self.composer.ticket_closed(self.user_tr(ticket), ticket.number),
                )
            )
        return outcome

    async def _on_command(
        self, consultant: ConsultantRecord, event: ConsultantInput
    ) -> WorkspaceOutcome:
        tr = self.tr
        here = event.thread_id
        if event.command == "queue":
            return self._post(
                here, self._listing(tr.gettext("Waiting tickets:"), await self.tickets.queue())
            )
        if event.command == "mine":
            return self._post(
                here,
                self._listing(
                    tr.gettext("Your tickets:"), await self.tickets.held_by(consultant.telegram_id)
                ),
            )
        ticket = await self.tickets.by_thread(here) if here is not None else None
        if event.command == "canned" and not event.args.strip():
            return self._post(here, Reply(self._canned_list()))
        if ticket is None:
            return self._post(here, Reply(tr.gettext("Use this command inside a ticket's topic.")))
        if event.command == "note":
            note = event.args.strip()
            if not note:
                return self._post(here, Reply(tr.gettext("Write the note after /note.")))
            await self.tickets.add_line(
                ticket.id, "note", note, consultant_id=consultant.telegram_id, deliver=False
            )
            return self._post(
                here, Reply(tr.gettext("📝 Note kept for colleagues; the user does not see it."))
            )
        if event.command == "close":
            reason = event.args.strip() or self._reason("answered")
            return await self._close(consultant, ticket, reason)
        if event.command == "canned":
            name = event.args.strip().split()[0]
            text = self.canned.text(name, parse_language(ticket.language) or Language.RU)
            if text is None:
                return self._post(
                    here,
                    Reply(
                        tr.gettext("No ready answer called “%(name)s”.") % {"name": name}
                        + "\n\n"
                        + self._canned_list()
                    ),
                )
            return await self._relay(consultant, ticket, text, echo=True)
        return self._post(here, Reply(self._help()))

    def _post(self, thread_id: int | None, reply: Reply) -> WorkspaceOutcome:
        return WorkspaceOutcome(posts=[ToThread(thread_id, reply)])

    def _listing(self, heading: str, tickets: list[TicketRecord]) -> Reply:
        tr = self.tr
        if not tickets:
            return Reply(heading + "\n" + tr.gettext("none"))
        now = self.tickets.clock()
        lines = []
        for ticket in tickets[:QUEUE_LIMIT]:
            minutes = int((now - ticket.created_at).total_seconds() // 60)
            age = tr.ngettext("%(n)s min", "%(n)s min", minutes)
            mark = PRIORITY_MARK.get(ticket.priority, "")
            role = role_name(tr, ticket.role)
            lines.append(f"{mark} #{ticket.number} · {ticket.language} · {age} · {role}")
        if len(tickets) > QUEUE_LIMIT:
            lines.append(tr.gettext("…and %(count)s more") % {"count": len(tickets) - QUEUE_LIMIT})
        return Reply(heading + "\n" + "\n".join(lines))

    def _canned_list(self) -> str:
        tr = self.tr
        names = [
            f"/canned {name}: {description}"
            for name, description in self.canned.catalogue(self.language)
        ]
        return "\n".join([tr.gettext("Ready answers (sent in the ticket's language):"), *names])

    def _help(self) -> str:
        return self.tr.gettext(
            "/queue: waiting tickets\n/mine: your tickets\n/canned: ready answers\n"
            "/note <text>: a note for colleagues\n/close <reason>: close the ticket"
        )

    async def _on_text(
        self, consultant: ConsultantRecord, event: ConsultantInput
    ) -> WorkspaceOutcome:
        tr = self.tr
        if event.thread_id is None:
            return WorkspaceOutcome()  # chatter in General stays there
        ticket = await self.tickets.by_thread(event.thread_id)
        if ticket is None:
            return WorkspaceOutcome()
        if event.media:
            return self._post(
                event.thread_id,
                Reply(tr.gettext("Only text is passed to the user; media is not sent.")),
            )
        if not event.text.strip():
            return WorkspaceOutcome()
        return await self._relay(consultant, ticket, event.text.strip(), echo=False)

    async def _relay(
        self, consultant: ConsultantRecord, ticket: TicketRecord, text: str, *, echo: bool
    ) -> WorkspaceOutcome:
        tr = self.tr
        if ticket.status == "closed":
            return self._post(
                ticket.thread_id, Reply(tr.gettext("The ticket is closed: nothing was sent."))
            )
        if ticket.consultant_id != consultant.telegram_id:
            return self._post(
                ticket.thread_id,
                Reply(
                    tr.gettext(
                        "Take the ticket first: only its holder's messages reach the user. "
                        "Nothing was sent."
                    )
                ),
            )
        await self.tickets.add_line(
            ticket.id, "consultant", text, consultant_id=consultant.telegram_id
        )
        await self.tickets.mark_answered(ticket.id, consultant.telegram_id)
        if echo:
            return self._post(
                ticket.thread_id, Reply(tr.gettext("↪️ Sent to the user:") + "\n" + text)
            )
        return WorkspaceOutcome()
