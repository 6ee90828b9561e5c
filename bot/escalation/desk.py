"""The user's side of tickets: open one, write into it, withdraw it, rate it, reopen it.

Transport-free: the dialogue core calls it; storage does the transactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.dialogue.messages import OpenTicket
from bot.escalation.policy import EscalationPolicy, RoleMap
from bot.storage.tickets import PRIORITY_RANK, TicketRecord, TicketRepository

WITHDRAWN = "withdrawn by the user"


@dataclass(frozen=True)
class Receipt:
    number: str
    priority: str
    in_hours: bool
    back_at: dt.datetime | None  # when the pool opens again (local time), if out of hours
    answer_within_hours: int
    existing: bool  # the question joined a ticket that was already open


@dataclass
class TicketDesk:
    tickets: TicketRepository
    policy: EscalationPolicy
    roles: RoleMap

    async def active(self, pseudonym: str) -> TicketRecord | None:
        return await self.tickets.active_for(pseudonym)

    def _receipt(self, ticket: TicketRecord, *, existing: bool) -> Receipt:
        hours = self.policy.hours_for(ticket.role)
        now = self.tickets.clock()
        return Receipt(
            number=ticket.number,
            priority=ticket.priority,
            in_hours=hours.is_open(now),
            back_at=hours.next_open(now),
            answer_within_hours=self.policy.answer_within_hours,
            existing=existing,
        )

    async def open(
        self, pseudonym: str, request: OpenTicket, context: Iterable[tuple[str, str]] = ()
    ) -> Receipt:
        """One active ticket per user: a second request joins the first (and may raise it)."""
        current = await self.tickets.active_for(pseudonym)
        if current is not None:
            if request.question:
                await self.tickets.add_line(current.id, "user", request.question)
            if PRIORITY_RANK[request.priority] < PRIORITY_RANK[current.priority]:
                await self.raise_to(current, request.priority)
                current = await self.tickets.get(current.id) or current
            return self._receipt(current, existing=True)
        ticket = await self.tickets.open(
            pseudonym=pseudonym,
            language=request.language,
            audience=request.audience,
            topic=request.topic,
            role=self.roles.role(request.topic),
            priority=request.priority,
            question=request.question,
            context=context,
        )
        return self._receipt(ticket, existing=False)

    async def raise_to(self, ticket: TicketRecord, priority: str) -> None:
        if await self.tickets.raise_priority(ticket.id, priority):
            await self.tickets.add_line(ticket.id, "system", f"priority:{priority}")

    async def user_wrote(self, ticket: TicketRecord, text: str, *, crisis: bool = False) -> None:
        await self.tickets.add_line(ticket.id, "user", text)
        if crisis:
            await self.raise_to(ticket, "crisis")

    async def withdraw(self, ticket: TicketRecord) -> bool:
        if await self.tickets.close(ticket.id, reason=WITHDRAWN, consultant_id=None):
            await self.tickets.add_line(ticket.id, "system", "withdrawn")
            return True
        return False

    async def rate(self, pseudonym: str, number: str, stars: int) -> bool:
        ticket = await self.tickets.by_number_for(number, pseudonym)
        if ticket is None or not 1 <= stars <= 5:
            return False
        return await self.tickets.rate(ticket.id, pseudonym, stars)

    async def reopen(self, pseudonym: str, number: str) -> Receipt | None:
        ticket = await self.tickets.by_number_for(number, pseudonym)
        if ticket is None or await self.tickets.active_for(pseudonym) is not None:
            return None
        if not await self.tickets.reopen(ticket.id, pseudonym, self.policy.reopen_window):
            return None
        await self.tickets.add_line(ticket.id, "system", "reopened")
        reopened = await self.tickets.get(ticket.id) or ticket
        return self._receipt(reopened, existing=True)
