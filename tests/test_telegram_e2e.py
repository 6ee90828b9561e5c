"""End to end over real HTTP: `syrlas run` as a process, a fake Telegram Bot API on loopback,
the real Rasa server with the trained model, SQLite on disk."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.i18n import Catalogs
from bot.knowledge.base import KnowledgeBase
from bot.languages import Language
from bot.nlu.server import RasaServer, free_loopback_port
from bot.settings import PROJECT_ROOT
from tests.fake_telegram import MEDIA_KINDS, FakeBotApi

pytestmark = pytest.mark.rasa
SYRLAS = PROJECT_ROOT / ".venv" / "bin" / "syrlas"
TOKEN = "123456:TEST-token"
ALMAS, DANA, ERLAN = 5550001, 5550002, 5550003


@dataclass
class RunningBot:
    api: FakeBotApi
    process: asyncio.subprocess.Process
    database: Path
    log: Path
    webhook_port: int | None = None

    async def answers(
        self, chat_id: int, after: int, count: int = 1, wait: float = 30
    ) -> list[dict]:
        """The next ``count`` sendMessage calls to ``chat_id`` after call index ``after``."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            sent = [
                c.params
                for c in self.api.calls[after:]
                if c.method == "sendMessage" and c.ok and int(c.params["chat_id"]) == chat_id
            ]
            if len(sent) >= count:
                return sent[:count]
            if asyncio.get_running_loop().time() > deadline:
                log = self.log.read_text(errors="replace")[-2000:]
                raise AssertionError(f"{len(sent)} of {count} answers to {chat_id}; log:\n{log}")
            await asyncio.sleep(0.05)

    async def say(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str = "ru",
        count: int = 1,
        **kwargs: object,
    ) -> list[dict]:
        mark = len(self.api.calls)
        self.api.push(self.api.text_message(user_id, text, language_code=language_code, **kwargs))
        return await self.answers(user_id, mark, count)

    async def press(
        self,
        user_id: int,
        data: str,
        *,
        count: int = 1,
        message_id: int = 1,
        language_code: str = "ru",
    ) -> list[dict]:
        mark = len(self.api.calls)
        self.api.push(
            self.api.callback_query(
                user_id, data, message_id=message_id, language_code=language_code
            )
        )
        return await self.answers(user_id, mark, count)


def buttons(sent: dict) -> list[str]:
    markup = sent.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def bot_env(
    tmp_path: Path, api: FakeBotApi, nlu_url: str, nlu_token: str, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYRLAS_")}
    env.update(
        SYRLAS_TELEGRAM_TOKEN=api.token,
        SYRLAS_TELEGRAM_API_URL=api.base_url,
        SYRLAS_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        SYRLAS_SECRET_KEY="e2e-secret-key",
        SYRLAS_NLU_URL=nlu_url,
        SYRLAS_NLU_TOKEN=nlu_token,
        SYRLAS_NLU_TIMEOUT="3",
        **extra,
    )
    return env


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path, nlu_url: str, nlu_token: str, **extra: str
) -> AsyncIterator[RunningBot]:
    async with FakeBotApi(token=TOKEN) as api:
        log = tmp_path / "bot.log"
        with log.open("wb") as handle:
            process = await asyncio.create_subprocess_exec(
                str(SYRLAS),
                "run",
                env=bot_env(tmp_path, api, nlu_url, nlu_token, **extra),
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
            )
        bot = RunningBot(api, process, tmp_path / "bot.db", log)
        try:
            ready = "setWebhook" if "SYRLAS_WEBHOOK_URL" in extra else "getUpdates"
            try:
                await api.wait_for(ready, timeout=60)
            except TimeoutError:
                raise AssertionError(log.read_text(errors="replace")[-3000:]) from None
            yield bot
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), timeout=20)
                except TimeoutError:
                    process.kill()
                    await process.wait()
        assert "Traceback" not in log.read_text(errors="replace"), log.read_text()[-3000:]


@pytest.fixture
async def bot(tmp_path, rasa_server) -> AsyncIterator[RunningBot]:
    async with running_bot(tmp_path, rasa_server.url, rasa_server.token) as running:
        yield running


# --- a new user, in each language -----------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "question", "topic"),
    [
        ("kk", "етеккір кезінде ішім қатты ауырады", "period_pain"),
        ("ru", "у меня болят месячные, что делать", "period_pain"),
        ("en", "my baby has a fever of 39", "child_fever"),
    ],
)
async def test_a_new_user_from_start_to_answer_and_feedback(
    bot: RunningBot, knowledge: KnowledgeBase, catalogs: Catalogs, language, question, topic
):
    lang = Language(language)
    welcome, choose = await bot.say(ALMAS, "/start", language_code=language, count=2)
    assert welcome["text"] and not buttons(welcome)
    assert buttons(choose)[0] == f"lang:{language}"  # the client's language comes first
    assert choose["parse_mode"] == "HTML"
    (audience,) = await bot.press(ALMAS, f"lang:{language}", language_code=language)
    assert buttons(audience) == ["aud:teen", "aud:parent"]
    assert catalogs(lang).gettext("I'm a teenager") in json.dumps(audience, ensure_ascii=False)
    await bot.press(ALMAS, "aud:parent", language_code=language)
    (answer,) = await bot.say(ALMAS, question, language_code=language)
    variant = knowledge.answer(topic, lang, "parent")
    assert variant.text.strip().splitlines()[0][:50] in answer["text"]
    feedback = next(b for b in buttons(answer) if b.startswith(f"fb:{topic}:") and b.endswith(":1"))
    (thanks,) = await bot.press(ALMAS, feedback, language_code=language)
    assert thanks["text"] == catalogs(lang).gettext("Thank you, this helps us improve the answers.")
    with sqlite3.connect(bot.database) as db:
        assert db.execute("select count(*) from feedback where helpful = 1").fetchone() == (1,)


async def test_language_switch_mid_conversation(bot: RunningBot, catalogs: Catalogs):
    await bot.say(DANA, "/start", count=2)
    await bot.press(DANA, "lang:ru")
    await bot.press(DANA, "aud:teen")
    (menu,) = await bot.say(DANA, "/language")
    assert buttons(menu)[:3] == ["lang:ru", "lang:kk", "lang:en"]
    (ready,) = await bot.press(DANA, "lang:en")
    assert ready["text"].startswith("Thank you!")
    (answer,) = await bot.say(DANA, "привет")  # a short greeting: the chosen language holds
    assert "Источники" not in answer["text"]
    (help_,) = await bot.say(DANA, "/help")
    assert help_["text"].startswith("Write your question")


async def test_command_menus_are_set_per_language(bot: RunningBot, catalogs: Catalogs):
    menus = {c.params.get("language_code"): c.params for c in bot.api.calls_of("setMyCommands")}
    assert {"kk", "ru", "en"} <= set(menus)
    for language in ("kk", "ru", "en"):
        commands = menus[language]["commands"]
        if isinstance(commands, str):
            commands = json.loads(commands)
        assert {c["command"] for c in commands} >= {"start", "help", "language", "forget"}
        start = next(c for c in commands if c["command"] == "start")
        assert start["description"] == catalogs(Language(language)).gettext("Start")


# --- everything else a real chat sends -------------------------------------------------------


async def test_media_gets_a_kind_answer(bot: RunningBot, catalogs: Catalogs):
    await bot.say(ERLAN, "/start", language_code="kk", count=2)
    await bot.press(ERLAN, "lang:kk", language_code="kk")
    expected = catalogs(Language.KK).gettext(
        "I can only read text for now. Please write your question in words, "
        "in Kazakh, Russian or English."
    )
    for kind in MEDIA_KINDS:
        mark = len(bot.api.calls)
        bot.api.push(bot.api.media_message(ERLAN, kind))
        (answer,) = await bot.answers(ERLAN, mark)
        assert answer["text"] == expected, kind


async def test_edited_forwarded_long_and_odd_messages_are_answered(bot: RunningBot):
    mark = len(bot.api.calls)
    bot.api.push(bot.api.edited_message(ALMAS, "у меня болят месячные", message_id=77))
    (edited,) = await bot.answers(ALMAS, mark)
    assert "Источники" in edited["text"]
    (forwarded,) = await bot.say(ALMAS, "у меня болят месячные", forward_from_user={"id": 999})
    assert "Источники" in forwarded["text"]
    (long_,) = await bot.say(ALMAS, "у меня болят месячные " + "очень " * 1700)
    assert long_["text"]
    for odd in ["\u202eمرحبا\u202c", "👩‍👩‍👧‍👦🏳️‍🌈", "\u200b\u200d\u2060", "   ", "ﷺ" * 50, "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇"]:
        (answer,) = await bot.say(ALMAS, odd)
        assert answer["text"]
    assert all(len(c.params["text"]) <= 4096 for c in bot.api.calls_of("sendMessage"))


async def test_html_in_user_text_is_never_interpreted(bot: RunningBot):
    await bot.say(DANA, "/start", count=2)
    await bot.press(DANA, "lang:en")
    await bot.press(DANA, "aud:teen")
    (answer,) = await bot.say(DANA, "<b>hi</b> & <script>")
    assert "<b>" not in answer["text"] and "<script>" not in answer["text"]


async def test_old_or_forged_buttons_get_an_answer(bot: RunningBot):
    for data in [
        "fb:period_pain:999:1",
        "topic:nope",
        "more:" + "x" * 50,
        "lang:de",
        "forget:maybe",
        "",
        "💥",
    ]:
        before = len(bot.api.calls_of("answerCallbackQuery"))
        (answer,) = await bot.press(ALMAS, data)
        assert answer["text"], data
        assert len(bot.api.calls_of("answerCallbackQuery")) > before  # the spinner stops


async def test_groups_get_one_notice_and_are_never_read(bot: RunningBot):
    group = -100200300
    mark = len(bot.api.calls)
    bot.api.push(bot.api.my_chat_member(ALMAS, "member", chat_id=group, chat_type="supergroup"))
    (notice,) = await bot.answers(group, mark)
    assert "@" in notice["text"]
    mark = len(bot.api.calls)
    bot.api.push(bot.api.group_message(ALMAS, group, "у меня болят месячные"))
    bot.api.push(bot.api.channel_post(-100999, "новости канала"))
    await bot.say(DANA, "/help")  # a private message after them: they were processed first
    assert [c for c in bot.api.calls[mark:] if c.params.get("chat_id") in (group, -100999)] == []
    with sqlite3.connect(bot.database) as db:
        texts = [t for (t,) in db.execute("select text from messages")]
    assert not any("месячные" in t for t in texts)


async def test_a_user_who_blocked_the_bot_is_marked_inactive_without_retries(bot: RunningBot):
    await bot.say(ERLAN, "/start", count=2)
    bot.api.block_user(ERLAN)
    mark = len(bot.api.calls)
    bot.api.push(bot.api.text_message(ERLAN, "у меня болят месячные"))
    await bot.api.wait_for(
        "sendMessage",
        lambda c: int(c.params["chat_id"]) == ERLAN and bot.api.calls.index(c) >= mark,
        timeout=30,
    )
    await asyncio.sleep(2)
    attempts = [c for c in bot.api.calls[mark:] if c.method == "sendMessage"]
    assert len(attempts) == 1  # no retry storm on 403
    with sqlite3.connect(bot.database) as db:
        assert db.execute("select count(*) from users where active = 0").fetchone() == (1,)


async def test_a_429_is_waited_out_and_the_answer_arrives(bot: RunningBot):
    bot.api.fail_next("sendMessage", error_code=429, retry_after=1)
    (answer,) = await bot.say(DANA, "/help")
    assert answer["text"]
    refused, delivered = [
        c for c in bot.api.calls_of("sendMessage") if int(c.params["chat_id"]) == DANA
    ]
    assert (refused.status, delivered.status) == (429, 200)
    assert delivered.at - refused.at >= 1.0  # the retry waited for retry_after


async def test_identity_never_reaches_storage_or_logs(bot: RunningBot):
    await bot.say(
        ALMAS,
        "/start",
        count=2,
        first_name="Айгерім",
        last_name="Сейітқызы",
        username="aigerim_2010",
    )
    await bot.say(ALMAS, "у меня болят месячные", first_name="Айгерім", username="aigerim_2010")
    raw = bot.database.read_bytes() + b"".join(
        p.read_bytes() for p in bot.database.parent.glob("bot.db-*")
    )
    for secret in (str(ALMAS), "Айгерім", "Сейітқызы", "aigerim_2010"):
        assert secret.encode() not in raw, secret
        assert secret not in bot.log.read_text(errors="replace"), secret


@contextlib.asynccontextmanager
async def slow_nlu(target: str, delay: float) -> AsyncIterator[str]:
    """A proxy in front of the real Rasa server that answers every parse ``delay`` s late."""
    from aiohttp import ClientSession, web

    async def parse(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        async with (
            ClientSession() as session,
            session.post(
                f"{target}/model/parse",
                params=request.query,
                data=await request.read(),
                headers={"Content-Type": "application/json"},
            ) as upstream,
        ):
            return web.Response(
                body=await upstream.read(), status=upstream.status, content_type="application/json"
            )

    app = web.Application()
    app.router.add_post("/model/parse", parse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_slow_nlu_shows_typing_and_stalls_nobody_else(tmp_path, rasa_server):
    async with (
        slow_nlu(rasa_server.url, 2.0) as url,
        running_bot(tmp_path, url, rasa_server.token) as bot,
    ):
        mark = len(bot.api.calls)
        bot.api.push(bot.api.text_message(ALMAS, "у меня болят месячные"))
        await asyncio.sleep(0.2)
        (help_,) = await bot.say(DANA, "/help")  # another user, while ALMAS waits for the NLU
        (answer,) = await bot.answers(ALMAS, mark)
        calls = bot.api.calls[mark:]
        typing = [
            c for c in calls if c.method == "sendChatAction" and int(c.params["chat_id"]) == ALMAS
        ]
        assert typing and typing[0].params["action"] == "typing"
        order = [
            (c.method, int(c.params.get("chat_id", 0)))
            for c in calls
            if c.method == "sendMessage" and c.ok
        ]
        assert order.index(("sendMessage", DANA)) < order.index(("sendMessage", ALMAS))
        assert "Источники" in answer["text"] and help_["text"]


async def test_one_users_messages_are_answered_in_order(bot: RunningBot):
    mark = len(bot.api.calls)
    for text in ["/help", "у меня болят месячные", "/privacy", "сәлем"]:
        bot.api.push(bot.api.text_message(ERLAN, text))
    help_, answer, privacy, hello = await bot.answers(ERLAN, mark, count=4)
    assert help_["text"].startswith("Напишите вопрос")
    assert "Источники" in answer["text"]
    assert privacy["text"] and hello["text"]


# --- failures around the bot ---------------------------------------------------------------
async def test_the_nlu_server_killed_mid_conversation(tmp_path, settings, nlu_model, catalogs):
    server = RasaServer(settings.rasa_executable, nlu_model, tmp_path / "rasa", max_restarts=0)
    await server.start()
    try:
        async with running_bot(tmp_path, server.url, server.token) as bot:
            (answer,) = await bot.say(DANA, "у меня болят месячные")
            assert "Источники" in answer["text"]
            os.killpg(server.pid, signal.SIGKILL)
            (sorry,) = await bot.say(DANA, "а если очень сильно болит")
            assert sorry["text"].startswith(
                catalogs(Language.RU).gettext(
                    "Sorry, I can't read messages properly right now because of a technical "
                    "problem. Please try again in a few minutes, or ask a consultant."
                )[:40]
            )
            assert buttons(sorry) == ["human"]
            (crisis,) = await bot.say(DANA, "не хочу больше жить")  # the lexicon needs no NLU
            assert "150" in crisis["text"]
    finally:
        await server.stop()


async def test_webhook_checks_the_secret(tmp_path, rasa_server):
    port = free_loopback_port()
    async with running_bot(
        tmp_path,
        rasa_server.url,
        rasa_server.token,
        SYRLAS_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        SYRLAS_WEBHOOK_LISTEN="127.0.0.1",
        SYRLAS_WEBHOOK_PORT=str(port),
        SYRLAS_WEBHOOK_SECRET="s3cret-token",
    ) as bot:
        registered = bot.api.calls_of("setWebhook")[-1].params
        assert registered["secret_token"] == "s3cret-token"
        url = f"http://127.0.0.1:{port}/hook"
        await wait_for_port(port)  # PTB registers the webhook before its server is up
        update = bot.api.text_message(ALMAS, "/help")
        assert await bot.api.post_to_webhook(url, update, secret_token="wrong") == 403
        assert await bot.api.post_to_webhook(url, update) == 403
        mark = len(bot.api.calls)
        assert await bot.api.post_to_webhook(url, update, secret_token="s3cret-token") == 200
        (answer,) = await bot.answers(ALMAS, mark)
        assert answer["text"].startswith("Напишите вопрос")


async def wait_for_port(port: int, wait: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)
        else:
            writer.close()
            await writer.wait_closed()
            return


def test_run_refuses_a_webhook_without_a_secret(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYRLAS_")}
    env.update(SYRLAS_TELEGRAM_TOKEN=TOKEN, SYRLAS_WEBHOOK_URL="https://example.invalid/hook")
    result = subprocess.run(
        [str(SYRLAS), "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1 and "SYRLAS_WEBHOOK_SECRET" in result.stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-x", "-q"]))
