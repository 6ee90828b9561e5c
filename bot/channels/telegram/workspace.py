"""The consultants' supergroup (forum topics) over the transport-free ``Workspace``.

Updates from that one chat go here before anything else and stop here. An outbox round runs
every few seconds, and at once when something changed: it opens a topic per new ticket,
re-announces forgotten ones and relays messages both ways. Consultant texts are copied as new
messages (never forwarded), so a user sees a role, never an account; user texts reach the
topic as the bot's own words, without any id, name or forward origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram.render import render
from bot.channels.telegram.rounds import repeat
from bot.dialogue.messages import Reply
from bot.escalation.workspace import (
    ConsultantInput,
    Delivery,
    ToThread,
    ToUser,
    WorkspaceOutcome,
)
from bot.runtime import Escalation
from bot.storage.errors import StorageUnavailable
from bot.storage.repository import Repository

log = logging.getLogger(__name__)

WORKSPACE_COMMANDS = frozenset({"queue", "mine", "canned", "note", "close", "help"})


@dataclass
class TelegramWorkspace:
    escalation: Escalation
    interval: float = 5.0
    _kick: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def chat_id(self) -> int:
        return self.escalation.chat_id

    def install(self, application: Application) -> None:
        # Group -1: before the private-chat front, which never sees the consultants' chat.
        application.add_handler(CallbackQueryHandler(self.on_button, pattern=r"^tk:"), group=-1)
        application.add_handler(
            MessageHandler(filters.Chat(self.chat_id) & ~filters.StatusUpdate.ALL, self.on_message),
            group=-1,
        )

    def kick(self) -> None:
        """Something is pending: run a round now rather than at the next tick."""
        self._kick.set()

    # --- updates from consultants ---------------------------------------------------------
    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot:
            raise ApplicationHandlerStop
        thread_id = message.message_thread_id if message.is_topic_message else None
        text = message.text or ""
        command, args = None, ""
        if text.startswith("/"):
            word, _, args = text[1:].partition(" ")
            name = word.split("@", 1)[0].lower()
            command = name if name in WORKSPACE_COMMANDS else "help"
        event = ConsultantInput(
            consultant_id=user.id,
            display_name=user.first_name or "",
            thread_id=thread_id,
            text=text if command is None else "",
            command=command,
            args=args,
            media=message.text is None,
        )
        await self._act(context.bot, event)
        raise ApplicationHandlerStop

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None or query.message.chat.id != self.chat_id:
            return  # not ours: a private chat's front handles it
        thread_id = (
            query.message.message_thread_id
            if getattr(query.message, "is_topic_message", False)
            else None
        )
        event = ConsultantInput(
            consultant_id=query.from_user.id,
            display_name=query.from_user.first_name or "",
            thread_id=thread_id,
            action=query.data or "",
        )
        outcome = await self._act(context.bot, event)
        with contextlib.suppress(TelegramError):
            await query.answer(outcome.notice if outcome else None)
        raise ApplicationHandlerStop

    async def _act(self, bot: Bot, event: ConsultantInput) -> WorkspaceOutcome | None:
        try:
            outcome = await self.escalation.workspace.handle(event)
        except StorageUnavailable as exc:
            log.warning("consultant action failed: %s", exc)
            return WorkspaceOutcome(notice="⚠️ database unavailable, try again")
        if outcome is not None:
            await self.carry_out(bot, outcome)
            self.kick()
        return outcome

    # --- carrying out -----------------------------------------------------------------------
    async def carry_out(self, bot: Bot, outcome: WorkspaceOutcome) -> None:
        for post in outcome.posts:
            await self._post(bot, post)
        for message in outcome.to_users:
            await self._to_user(bot, message)
        for change in outcome.topics:
            with contextlib.suppress(BadRequest):
                if change.title:
                    await bot.edit_forum_topic(self.chat_id, change.thread_id, name=change.title)
                if change.closed is True:
                    await bot.close_forum_topic(self.chat_id, change.thread_id)
                elif change.closed is False:
                    await bot.reopen_forum_topic(self.chat_id, change.thread_id)

    async def _send(self, bot: Bot, chat_id: int, reply: Reply, thread_id: int | None) -> None:
        for part in render(reply):
            await bot.send_message(
                chat_id,
                part.html,
                parse_mode=ParseMode.HTML,
                reply_markup=part.keyboard,
                message_thread_id=thread_id,
            )

    async def _post(self, bot: Bot, post: ToThread) -> bool:
        try:
            await self._send(bot, self.chat_id, post.reply, post.thread_id)
            return True
        except BadRequest as exc:
            log.error("consultants' chat refused a post: %s", exc.message)
            return False

    async def _to_user(self, bot: Bot, message: ToUser) -> bool:
        """True when delivered or undeliverable for good (blocked, erased); False: retry."""
        tickets = self.escalation.tickets
        chat_id = self.escalation.seal.open(await tickets.chat_ref(message.pseudonym))
        if chat_id is None:
            return True  # erased, inactive or sealed under an old key: nobody to send to
        try:
            await self._send(bot, chat_id, message.reply, None)
        except Forbidden:  # blocked the bot: stop, as the private front does
            with contextlib.suppress(StorageUnavailable):
                await Repository(self.escalation.tickets.engine).set_active(
                    message.pseudonym, False
                )
        except BadRequest as exc:
            log.error("telegram refused a relayed message: %s", exc.message)
        return True

    # --- the outbox round --------------------------------------------------------------------
    async def run(self, bot: Bot, stop: asyncio.Event) -> None:
        await repeat(lambda: self.round(bot), self.interval, stop, self._kick, name="workspace")

    async def round(self, bot: Bot) -> None:
        workspace = self.escalation.workspace
        pending = await workspace.pending()
        for new in pending.new_topics:
            try:
                topic = await bot.create_forum_topic(self.chat_id, new.title)
            except TelegramError as exc:
                log.error("could not open a topic for a ticket: %s", exc)
                await workspace.topic_failed(new.ticket)
                continue
            await workspace.topic_created(new.ticket, topic.message_thread_id)
            await self._post(bot, ToThread(topic.message_thread_id, new.first_post))
        await self.carry_out(bot, pending.reannounced)
        for delivery in pending.deliveries:
            await self._deliver(bot, delivery)

    async def _deliver(self, bot: Bot, delivery: Delivery) -> None:
        workspace = self.escalation.workspace
        if delivery.reopen_topic and delivery.to_thread and delivery.to_thread.thread_id:
            with contextlib.suppress(BadRequest):
                await bot.reopen_forum_topic(self.chat_id, delivery.to_thread.thread_id)
        try:
            if delivery.to_thread is not None:
                ok = await self._post(bot, delivery.to_thread)
            elif delivery.to_user is not None:
                ok = await self._to_user(bot, delivery.to_user)
            else:
                ok = True
        except TelegramError as exc:  # network, flood control: the lease expires, then a retry
            log.warning("relay postponed: %s", type(exc).__name__)
            return
        await workspace.delivered(delivery, ok=ok)
