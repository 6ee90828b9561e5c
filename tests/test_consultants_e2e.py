"""Consultants end to end: `syrlas run` as a process, the fake Bot API with a forum supergroup,
the real Rasa server. A user asks for a person; a consultant takes, answers, closes; the user
rates. No request to the consultants' chat may carry the user's id, username or names."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess

import pytest

from bot.i18n import Catalogs
from bot.languages import Language
from tests.test_telegram_e2e import SYRLAS, RunningBot, bot_env, buttons, running_bot

pytestmark = pytest.mark.rasa
CONSULTANTS = -1001234567890
DOCTOR, STRANGER = 7770001, 7770009
USER_ID, USERNAME, FIRST, LAST = 5550042, "aigerim_k_2011", "Aigerim", "Karimova"


async def next_to(bot: RunningBot, chat_id: int, after: int, wait: float = 30) -> dict:
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        for call in bot.api.calls[after:]:
            if call.method == "sendMessage" and call.ok and int(call.params["chat_id"]) == chat_id:
                return call.params
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(bot.log.read_text(errors="replace")[-3000:])
        await asyncio.sleep(0.05)


async def test_a_user_and_a_consultant_through_telegram(tmp_path, rasa_server, catalogs: Catalogs):
    ru = catalogs(Language.RU)
    env = bot_env(tmp_path, _DummyApi(), rasa_server.url, rasa_server.token)
    added = await asyncio.to_thread(
        subprocess.run,
        [str(SYRLAS), "consultant", "add", str(DOCTOR), "--role", "doctor", "--languages", "ru,kk"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    async with running_bot(
        tmp_path,
        rasa_server.url,
        rasa_server.token,
        SYRLAS_CONSULTANTS_CHAT_ID=str(CONSULTANTS),
        SYRLAS_CONSULTANT_HOURS='{"default": "always"}',
        SYRLAS_WORKSPACE_INTERVAL="0.5",
        SYRLAS_CONSULTANTS_LANGUAGE="en",
    ) as bot:
        api = bot.api
        api.forum_group(CONSULTANTS)
        identity = {"first_name": FIRST, "last_name": LAST, "username": USERNAME}
        await bot.say(USER_ID, "/start", count=2, **identity)
        await bot.press(USER_ID, "lang:ru")
        await bot.press(USER_ID, "aud:teen")
        # the user asks for a person
        mark = len(api.calls)
        (waiting,) = await bot.say(USER_ID, "/consultant", **identity)
        assert "150" in waiting["text"] and "withdraw:ask" in buttons(waiting)
        created = await api.wait_for("createForumTopic", lambda c: c.ok, timeout=30)
        thread = created.response["result"]["message_thread_id"]
        number = created.params["name"].split(" ")[0].lstrip("#")
        assert f"#{number}" in waiting["text"]
        first_post = await next_to(bot, CONSULTANTS, mark)
        take = next(b for b in buttons(first_post) if b.startswith("tk:take:"))
        post_id = next(
            c.response["result"]["message_id"]
            for c in api.calls[mark:]
            if c.method == "sendMessage" and c.ok and c.params.get("chat_id") == CONSULTANTS
        )
        # a stranger in the group is ignored; the registered doctor takes it
        mark = len(api.calls)
        api.push(api.group_callback_query(STRANGER, CONSULTANTS, take, message_id=post_id))
        await api.wait_for("answerCallbackQuery", timeout=30, start=mark)
        assert not [c for c in api.calls[mark:] if c.method == "sendMessage"]
        mark = len(api.calls)
        api.push(api.group_callback_query(DOCTOR, CONSULTANTS, take, message_id=post_id))
        taken = await next_to(bot, USER_ID, mark)
        assert taken["text"] == ru.gettext(
            "A %(role)s is reading your question now and will answer here."
        ) % {"role": ru.gettext("doctor")}
        # the consultant writes in the topic: the user gets it, signed with the role only
        mark = len(api.calls)
        api.push(api.topic_message(DOCTOR, CONSULTANTS, thread, "Здравствуйте! Что беспокоит?"))
        relayed = await next_to(bot, USER_ID, mark)
        label = ru.gettext("Consultant (%(role)s)") % {"role": ru.gettext("doctor")}
        assert relayed["text"] == f"{label}: Здравствуйте! Что беспокоит?"
        # the user answers: it goes to the topic, and the bot itself stays quiet
        mark = len(api.calls)
        api.push(api.text_message(USER_ID, "болит живот второй день", **identity))
        in_topic = await next_to(bot, CONSULTANTS, mark)
        assert in_topic["text"] == "👤 болит живот второй день"
        assert in_topic["message_thread_id"] == thread
        await asyncio.sleep(1.0)
        assert not [
            c
            for c in api.calls[mark:]
            if c.method == "sendMessage" and c.params["chat_id"] == USER_ID
        ]
        # close: the topic closes, the user can rate once
        mark = len(api.calls)
        api.push(api.topic_message(DOCTOR, CONSULTANTS, thread, "/close answered"))
        closed = await next_to(bot, USER_ID, mark)
        assert buttons(closed)[:5] == [f"rate:{number}:{n}" for n in range(1, 6)]
        await api.wait_for("closeForumTopic", timeout=30)
        (thanks,) = await bot.press(USER_ID, f"rate:{number}:5")
        assert thanks["text"] == ru.gettext("Thank you for the rating!")
        # nothing sent to the consultants' chat names the user
        sent = json.dumps(
            [c.params for c in api.requests_to(CONSULTANTS)], ensure_ascii=False, default=str
        )
        for secret in (str(USER_ID), USERNAME, FIRST, LAST):
            assert secret not in sent, secret
        assert api.requests_to(CONSULTANTS)
    with sqlite3.connect(tmp_path / "bot.db") as db:
        row = db.execute("select status, rating, close_reason from tickets").fetchone()
        assert row == ("closed", 5, "answered")
    # the chat id is sealed: the raw file never holds it
    raw = (tmp_path / "bot.db").read_bytes()
    assert str(USER_ID).encode() not in raw and USERNAME.encode() not in raw


class _DummyApi:
    token = "123456:TEST-token"
    base_url = "http://127.0.0.1:9/bot"
