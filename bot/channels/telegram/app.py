"""Building and running the Telegram application: polling by default, a webhook when configured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.channels.telegram.agency import TelegramAgency
from bot.channels.telegram.front import TelegramFront
from bot.channels.telegram.ordering import PerChatUpdateProcessor
from bot.channels.telegram.rounds import repeat
from bot.channels.telegram.workspace import TelegramWorkspace
from bot.runtime import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)

# Telegram's published limits: about 30 messages a second overall, 20 a minute in one group.
RATE_LIMITER = {
    "overall_max_rate": 30,
    "overall_time_period": 1,
    "group_max_rate": 20,
    "group_time_period": 60,
    "max_retries": 3,
}
RETENTION_INTERVAL_S = 3600
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "channel_post"]


def build_application(settings: Settings, runtime: Runtime) -> Application:
    if settings.telegram_token is None:
        raise ValueError("SYRLAS_TELEGRAM_TOKEN is not set")
    application = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .rate_limiter(AIORateLimiter(**RATE_LIMITER))
        .concurrent_updates(PerChatUpdateProcessor())
        .connect_timeout(10)
        .read_timeout(30)
        .get_updates_read_timeout(40)
        .build()
    )
    front = TelegramFront(
        runtime.engine,
        runtime.repository,
        runtime.pseudonymize,
        runtime.engine.catalogs,
        traces=runtime.traces,
        seal=runtime.seal,
    )
    if runtime.escalation is not None:
        workspace = TelegramWorkspace(runtime.escalation, settings.workspace_interval)
        workspace.install(application)
        front.escalation, front.on_ticket_activity = runtime.escalation, workspace.kick
        front.staff_chats |= {runtime.escalation.chat_id}
        application.bot_data["workspace"] = workspace
    if runtime.reporting is not None:
        agency = TelegramAgency(
            runtime.reporting.agency, runtime.reporting.chat_id, settings.workspace_interval
        )
        agency.install(application)
        front.staff_chats |= {runtime.reporting.chat_id}
        application.bot_data["agency"] = agency
    front.install(application)
    application.bot_data["front"] = front
    return application


async def serve(
    settings: Settings,
    runtime: Runtime,
    stop: asyncio.Event,
    on_status: Callable[[str], None] = lambda _: None,
) -> None:
    """Run until ``stop`` is set (SIGINT/SIGTERM in production, the test otherwise)."""
    application = build_application(settings, runtime)
    async with application:
        await application.bot_data["front"].set_menus(application)
        await application.start()
        updater = application.updater
        assert updater is not None
        if settings.webhook_url:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
            await updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=_webhook_path(settings.webhook_url),
                webhook_url=settings.webhook_url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            on_status(f"webhook listening on {settings.webhook_listen}:{settings.webhook_port}")
        else:
            await updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, timeout=30, drop_pending_updates=False
            )
            on_status("polling Telegram for updates")
        workspace: TelegramWorkspace | None = application.bot_data.get("workspace")
        front: TelegramFront = application.bot_data["front"]
        tasks = [
            asyncio.create_task(retention(runtime, stop)),
            asyncio.create_task(front.auto_clear(application.bot, stop)),
        ]
        if workspace is not None:
            tasks.append(asyncio.create_task(workspace.run(application.bot, stop)))
        agency: TelegramAgency | None = application.bot_data.get("agency")
        if agency is not None:
            tasks.append(asyncio.create_task(agency.run(application.bot, stop)))
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await updater.stop()
            await application.stop()


async def retention(runtime: Runtime, stop: asyncio.Event) -> None:
    """The retention job: expired text is deleted at start and every hour while the bot runs."""

    async def round_() -> None:
        if removed := await runtime.repository.purge_expired():
            log.info("retention job removed %d expired texts", removed)

    await repeat(round_, RETENTION_INTERVAL_S, stop, name="retention")


def _webhook_path(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).path.lstrip("/")


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


__all__ = ["build_application", "serve", "stop_on_signals"]
