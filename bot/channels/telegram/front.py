"""Telegram updates in, core outcomes out. Nothing here decides what to say: the core does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    Chat,
    ChatMemberUpdated,
    Update,
)
from telegram.constants import ChatAction, ChatMemberStatus, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.telegram.render import render
from bot.channels.telegram.rounds import repeat
from bot.dialogue.engine import Engine
from bot.dialogue.messages import (
    ClearChat,
    Command,
    Incoming,
    OpenTicket,
    Outcome,
    SetAutoClear,
)
from bot.i18n import Catalogs, Translator
from bot.languages import FALLBACK_LANGUAGE, LANGUAGES, parse_language
from bot.safety.pseudonyms import Pseudonymizer
from bot.safety.sealing import ChatSeal
from bot.storage.errors import StorageUnavailable
from bot.storage.repository import Repository
from bot.storage.traces import TraceRepository

if TYPE_CHECKING:
    from bot.runtime import Escalation

log = logging.getLogger(__name__)

COMMANDS = {command.value: command for command in Command}
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
AUTO_CLEAR_INTERVAL_S = 60
TYPING_DELAY_S = 0.4


def command_menu(tr: Translator) -> list[BotCommand]:
    """The menu Telegram shows next to the input field, in one language."""
    return [
        BotCommand("start", tr.gettext("Start")),
        BotCommand("help", tr.gettext("What I can do and the commands")),
        BotCommand("language", tr.gettext("Change the language")),
        BotCommand("audience", tr.gettext("Teenager or parent")),
        BotCommand("consultant", tr.gettext("Ask a doctor or psychologist")),
        BotCommand("report", tr.gettext("Report violence against a child")),
        BotCommand("privacy", tr.gettext("What is kept and who sees it")),
        BotCommand("clear", tr.gettext("Delete this conversation from the chat")),
        BotCommand("forget", tr.gettext("Erase everything about me")),
        BotCommand("cancel", tr.gettext("Start over")),
    ]


@dataclass
class TelegramFront:
    engine: Engine
    repository: Repository | None
    pseudonymize: Pseudonymizer
    catalogs: Catalogs
    escalation: Escalation | None = None  # consultants connected
    on_ticket_activity: Callable[[], None] = lambda: None
    traces: TraceRepository | None = None  # discreet mode: ids of deletable messages
    seal: ChatSeal | None = None  # for auto-clear, which must reach the chat later
    staff_chats: frozenset[int] = frozenset()  # consultants' and agency chats: never "private only"

    def install(self, application: Application) -> None:
        private = filters.ChatType.PRIVATE
        application.add_handler(
            ChatMemberHandler(self.on_membership, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        application.add_handler(CallbackQueryHandler(self.on_button))
        # Edited texts are answered like new ones: the user changed their question.
        application.add_handler(MessageHandler(private & filters.TEXT, self.on_text))
        application.add_handler(
            MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_unsupported)
        )
        # Everything else (groups, channels, service messages) is dropped unread.
        application.add_handler(TypeHandler(Update, self.on_ignored), group=1)
        application.add_error_handler(self.on_error)

    async def set_menus(self, application: Application) -> None:
        for language in LANGUAGES:
            await application.bot.set_my_commands(
                command_menu(self.catalogs(language)),
                scope=BotCommandScopeAllPrivateChats(),
                language_code=language.value,
            )
        await application.bot.set_my_commands(
            command_menu(self.catalogs(FALLBACK_LANGUAGE)), scope=BotCommandScopeAllPrivateChats()
        )

    # --- updates ----------------------------------------------------------------------------
    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.text is None:
            return
        text = message.text
        command = None
        if text.startswith("/"):
            word, _, rest = text[1:].partition(" ")
            name = word.split("@", 1)[0].lower()
            if name in COMMANDS:
                command, text = COMMANDS[name], rest
        incoming = Incoming(
            self._pseudonym(user.id), text=text, command=command, client_language=user.language_code
        )
        await self._handle(update, context, incoming, typing=command is None)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.from_user is None:
            return
        with contextlib.suppress(TelegramError):  # a stale query cannot be answered: fine
            await query.answer()
        chat = query.message.chat if query.message else None
        if chat is not None and chat.type != Chat.PRIVATE:
            return
        incoming = Incoming(
            self._pseudonym(query.from_user.id),
            action=query.data or "",
            client_language=query.from_user.language_code,
        )
        await self._handle(update, context, incoming, typing=False)

    async def on_unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        incoming = Incoming(
            self._pseudonym(user.id), unsupported=True, client_language=user.language_code
        )
        await self._handle(update, context, incoming, typing=False)

    async def on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None:
            return
        status = change.new_chat_member.status
        if change.chat.type == Chat.PRIVATE:
            if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):  # blocked the bot
                await self._mark_inactive(self._pseudonym(change.from_user.id))
            return
        if change.chat.id in self.staff_chats:
            return  # the consultants' or agency chat: no "private chats only" notice there
        if status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR):
            # Said once, when added to a group; after that the group is never read.
            language = parse_language(change.from_user.language_code) or FALLBACK_LANGUAGE
            reply = self.engine.compose.private_only(self.catalogs(language), context.bot.username)
            with contextlib.suppress(TelegramError):
                for part in render(reply):
                    await context.bot.send_message(
                        change.chat.id, part.html, parse_mode=ParseMode.HTML
                    )

    async def on_ignored(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Group, channel and other non-private updates: not read, not stored, not answered."""

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Never the update itself in the log: it carries names and ids.
        log.error("update failed: %s", type(context.error).__name__, exc_info=context.error)

    # --- the one path every private update takes ---------------------------------------------
    async def _handle(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        incoming: Incoming,
        *,
        typing: bool,
    ) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        typing_task = asyncio.create_task(self._typing(context, chat.id)) if typing else None
        try:
            outcome = await self.engine.handle(incoming)
        finally:
            if typing_task is not None:
                typing_task.cancel()
        await self._remember_chat(chat.id, incoming.user, outcome)
        incoming_id = update.message.message_id if update.message else None
        for effect in outcome.effects:
            if isinstance(effect, ClearChat):
                await self.clear(context.bot, chat.id, incoming.user, extra=[incoming_id])
                incoming_id = None
            elif isinstance(effect, SetAutoClear):
                await self._set_auto_clear(chat.id, incoming.user, effect.minutes)
        sent = await self._send(context, chat.id, incoming.user, outcome)
        await self._trace(incoming.user, [i for i in [incoming_id, *sent] if i is not None])
        if outcome.effects:
            self.on_ticket_activity()

    # --- discreet mode -------------------------------------------------------------------------
    async def _trace(self, user: str, message_ids: list[int]) -> None:
        if self.traces is None or not message_ids:
            return
        try:
            await self.traces.add(user, message_ids)
        except StorageUnavailable as exc:
            log.warning("message ids not tracked: %s", exc)

    async def clear(
        self, bot: Bot, chat_id: int, user: str, *, extra: Iterable[int | None] = ()
    ) -> None:
        """Delete the tracked messages (both sides) of this chat, 100 per call as Telegram
        allows; ones already gone or too old are skipped by Telegram itself."""
        if self.traces is None:
            return
        try:
            ids = await self.traces.deletable(user)
        except StorageUnavailable as exc:
            log.warning("chat not cleared: %s", exc)
            return
        ids = sorted({*ids, *(i for i in extra if i is not None)})
        for start in range(0, len(ids), DELETE_BATCH):
            with contextlib.suppress(BadRequest, Forbidden):
                await bot.delete_messages(chat_id, ids[start : start + DELETE_BATCH])
        with contextlib.suppress(StorageUnavailable):
            await self.traces.forget_ids(user, ids)

    async def _set_auto_clear(self, chat_id: int, user: str, minutes: int | None) -> None:
        if self.traces is None or self.seal is None:
            return
        try:
            await self.traces.set_auto_clear(
                user, minutes, self.seal.seal(chat_id) if minutes else None
            )
        except StorageUnavailable as exc:
            log.warning("auto-clear not stored: %s", exc)

    async def auto_clear(self, bot: Bot, stop: asyncio.Event) -> None:
        """Every minute: delete what is older than each user's chosen auto-clear time."""
        traces, seal = self.traces, self.seal
        if traces is None or seal is None:
            return

        async def round_() -> None:
            for due in await traces.auto_clear_due():
                chat_id = seal.open(due.chat_ref)
                if chat_id is None:
                    continue
                for start in range(0, len(due.message_ids), DELETE_BATCH):
                    with contextlib.suppress(BadRequest, Forbidden):
                        await bot.delete_messages(
                            chat_id, due.message_ids[start : start + DELETE_BATCH]
                        )
                await traces.forget_ids(due.pseudonym, due.message_ids)

        await repeat(round_, AUTO_CLEAR_INTERVAL_S, stop, name="auto-clear")

    async def _remember_chat(self, chat_id: int, user: str, outcome: Outcome) -> None:
        """Only a user with a ticket needs a way back; their chat id is stored sealed."""
        if self.escalation is None:
            return
        if not any(isinstance(effect, OpenTicket) for effect in outcome.effects):
            return
        try:
            await self.escalation.tickets.set_chat_ref(user, self.escalation.seal.seal(chat_id))
        except StorageUnavailable as exc:
            log.warning("chat reference not stored: %s", exc)

    async def _typing(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        """'typing…' while the core works; Telegram shows it for 5 s, so repeat it. Only once
        the answer is slower than a blink: chat actions count against the rate limit too."""
        with contextlib.suppress(TelegramError, asyncio.CancelledError):
            await asyncio.sleep(TYPING_DELAY_S)
            while True:
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
                await asyncio.sleep(4.5)

    async def _send(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, user: str, outcome: Outcome
    ) -> list[int]:
        """Send the replies; the ids of what was sent (discreet mode may delete them later)."""
        sent: list[int] = []
        for reply in outcome.replies:
            for part in render(reply):
                try:
                    message = await context.bot.send_message(
                        chat_id, part.html, parse_mode=ParseMode.HTML, reply_markup=part.keyboard
                    )
                    sent.append(message.message_id)
                except Forbidden:
                    # Blocked or deleted: stop here, remember, and never retry in a loop.
                    await self._mark_inactive(user)
                    return sent
                except BadRequest as exc:
                    log.error("telegram refused a message: %s", exc.message)
        return sent

    def _pseudonym(self, telegram_id: int) -> str:
        return self.pseudonymize("telegram", telegram_id)

    async def _mark_inactive(self, pseudonym: str) -> None:
        if self.repository is None:
            return
        try:
            await self.repository.set_active(pseudonym, False)
        except StorageUnavailable as exc:
            log.warning("could not mark a user inactive: %s", exc)
