"""The agency chat (``SYRLAS_REPORTS_CHAT_ID``) over the transport-free ``AgencyDesk``.

Reports leave through an outbox: posted, and posted again every few minutes until a
registered member presses "Received". A restart or a Telegram outage only delays them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, ContextTypes

from bot.channels.telegram.render import render
from bot.channels.telegram.rounds import repeat
from bot.safety.reports import AgencyDesk
from bot.storage.errors import StorageUnavailable

log = logging.getLogger(__name__)


@dataclass
class TelegramAgency:
    desk: AgencyDesk
    chat_id: int
    interval: float = 5.0
    _kick: asyncio.Event = field(default_factory=asyncio.Event)

    def install(self, application: Application) -> None:
        application.add_handler(CallbackQueryHandler(self.on_button, pattern=r"^ra:"), group=-1)

    def kick(self) -> None:
        self._kick.set()

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None or query.message.chat.id != self.chat_id:
            return
        try:
            notice = await self.desk.press(query.from_user.id, query.data or "")
        except StorageUnavailable as exc:
            log.warning("agency action failed: %s", exc)
            notice = "⚠️ database unavailable, try again"
        with contextlib.suppress(TelegramError):
            await query.answer(notice)
        raise ApplicationHandlerStop

    async def run(self, bot: Bot, stop: asyncio.Event) -> None:
        await repeat(lambda: self.round(bot), self.interval, stop, self._kick, name="report")

    async def round(self, bot: Bot) -> None:
        for post in await self.desk.pending():
            try:
                for part in render(post.reply):
                    await bot.send_message(
                        self.chat_id,
                        part.html,
                        parse_mode=ParseMode.HTML,
                        reply_markup=part.keyboard,
                    )
            except TelegramError as exc:  # unreachable, flood control, not a member yet: retry
                log.warning("report not posted yet: %s", type(exc).__name__)
                await self.desk.reports.post_failed(post.item.id)
                continue
            await self.desk.reports.posted(post.item.id)
