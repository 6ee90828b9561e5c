"""Telegram updates in, core outcomes out. Nothing here decides what to say: the core does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import (
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
from bot.dialogue.engine import Engine
from bot.dialogue.messages import Command, Incoming, OpenTicket, Outcome
from bot.i18n import Catalogs, Translator
from bot.languages import FALLBACK_LANGUAGE, LANGUAGES, parse_language
from bot.safety.pseudonyms import Pseudonymizer
from bot.storage.errors import StorageUnavailable
from bot.storage.repository import Repository

if TYPE_CHECKING:
    from bot.runtime import Escalation

log = logging.getLogger(__name__)

COMMANDS = {command.value: command for command in Command}
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
        if self.escalation is not None and change.chat.id == self.escalation.chat_id:
            return  # the consultants' chat: no "private chats only" notice there
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
        await self._send(context, chat.id, incoming.user, outcome)
        if outcome.effects:
            self.on_ticket_activity()

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
    ) -> None:
        for reply in outcome.replies:
            for part in render(reply):
                try:
                    await context.bot.send_message(
                        chat_id, part.html, parse_mode=ParseMode.HTML, reply_markup=part.keyboard
                    )
                except Forbidden:
                    # Blocked or deleted: stop here, remember, and never retry in a loop.
                    await self._mark_inactive(user)
                    return
                except BadRequest as exc:
                    log.error("telegram refused a message: %s", exc.message)

    def _pseudonym(self, telegram_id: int) -> str:
        return self.pseudonymize("telegram", telegram_id)

    async def _mark_inactive(self, pseudonym: str) -> None:
        if self.repository is None:
            return
        try:
            await self.repository.set_active(pseudonym, False)
        except StorageUnavailable as exc:
            log.warning("could not mark a user inactive: %s", exc)
