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


async def register(tmp_path, rasa_server, *commands: list[str]) -> None:
    """`syrlas consultant add …` / `syrlas agency add …` on the bot's database, as an operator."""
    env = bot_env(tmp_path, _DummyApi(), rasa_server.url, rasa_server.token)
    for command in commands:
        done = await asyncio.to_thread(
            subprocess.run, [str(SYRLAS), *command], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr


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
    await register(
        tmp_path,
        rasa_server,
        ["consultant", "add", str(DOCTOR), "--role", "doctor", "--languages", "ru,kk"],
    )
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


REPORTS = -1009876543210
AGENT = 7770100


async def test_reports_discreet_mode_and_no_identity_anywhere(
    tmp_path, rasa_server, catalogs: Catalogs
):
    ru = catalogs(Language.RU)
    await register(
        tmp_path, rasa_server, ["consultant", "add", str(DOCTOR)], ["agency", "add", str(AGENT)]
    )
    async with running_bot(
        tmp_path,
        rasa_server.url,
        rasa_server.token,
        SYRLAS_CONSULTANTS_CHAT_ID=str(CONSULTANTS),
        SYRLAS_REPORTS_CHAT_ID=str(REPORTS),
        SYRLAS_CONSULTANT_HOURS='{"default": "always"}',
        SYRLAS_WORKSPACE_INTERVAL="0.5",
    ) as bot:
        api = bot.api
        api.forum_group(CONSULTANTS)
        identity = {"first_name": FIRST, "last_name": LAST, "username": USERNAME}
        await bot.say(USER_ID, "/start", count=2, **identity)
        await bot.press(USER_ID, "lang:ru")
        await bot.press(USER_ID, "aud:teen")
        await bot.say(USER_ID, "у меня болят месячные", **identity)
        # discreet mode: /clear, then "clear now" deletes both sides of the chat
        (menu,) = await bot.say(USER_ID, "/clear", **identity)
        assert "clear:now" in buttons(menu) and "clear:auto:15" in buttons(menu)
        mark = len(api.calls)
        await bot.press(USER_ID, "clear:now")
        deletion = await api.wait_for("deleteMessages", timeout=30, start=mark)
        deleted = set(deletion.params["message_ids"])
        mine = {
            c.response["result"]["message_id"]
            for c in api.calls[:mark]
            if c.method == "sendMessage" and c.ok and c.params["chat_id"] == USER_ID
        }
        assert mine <= deleted  # every bot message so far
        assert len(deleted) > len(mine)  # and the user's own messages
        # an anonymous report, confirmed by a registered agency member
        await bot.say(USER_ID, "/report", count=2, **identity)
        await bot.press(USER_ID, "rf:who:self")
        await bot.say(USER_ID, "отчим бьёт меня ремнём каждый вечер", **identity)
        await bot.press(USER_ID, "rf:where:almaty_city")
        await bot.press(USER_ID, "rf:skip")
        mark = len(api.calls)
        (filed,) = await bot.press(USER_ID, "rf:danger:no")
        words = filed["text"].replace(".", " ").split()
        number = next(w for w in words if w.startswith("R") and len(w) == 6)
        code = next(w for w in words if w.isdigit() and len(w) == 8)
        posted = await next_to(bot, REPORTS, mark)
        assert number in posted["text"] and "ремнём" in posted["text"]
        ack = next(b for b in buttons(posted) if b.startswith("ra:ack:"))
        post_id = next(
            c.response["result"]["message_id"]
            for c in api.calls[mark:]
            if c.method == "sendMessage" and c.ok and c.params["chat_id"] == REPORTS
        )
        mark = len(api.calls)
        api.push(api.group_callback_query(AGENT, REPORTS, ack, message_id=post_id))
        await api.wait_for("answerCallbackQuery", timeout=30, start=mark)
        (status,) = await bot.say(USER_ID, f"/report status {number} {code}", **identity)
        assert ru.gettext("the service confirmed it has your report") in status["text"]
        # a ticket, answered
        await bot.say(USER_ID, "/consultant", **identity)
        created = await api.wait_for("createForumTopic", lambda c: c.ok, timeout=30)
        thread = created.response["result"]["message_thread_id"]
        first = await api.wait_for(
            "sendMessage",
            lambda c: c.ok and c.params.get("message_thread_id") == thread,
            timeout=30,
        )
        take = next(b for b in buttons(first.params) if b.startswith("tk:take:"))
        mark = len(api.calls)
        api.push(
            api.group_callback_query(
                DOCTOR, CONSULTANTS, take, message_id=first.response["result"]["message_id"]
            )
        )
        await next_to(bot, USER_ID, mark)
        mark = len(api.calls)
        api.push(api.topic_message(DOCTOR, CONSULTANTS, thread, "Здравствуйте!"))
        await next_to(bot, USER_ID, mark)
        staff = json.dumps(
            [c.params for c in api.requests_to(CONSULTANTS) + api.requests_to(REPORTS)],
            ensure_ascii=False,
            default=str,
        )
        for secret in (str(USER_ID), USERNAME, FIRST, LAST):
            assert secret not in staff, secret
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("bot.db*"))
    log = (tmp_path / "bot.log").read_text(errors="replace")
    for secret in (str(USER_ID), USERNAME, FIRST, LAST):
        assert secret.encode() not in raw, secret
        assert secret not in log, secret
    with sqlite3.connect(tmp_path / "bot.db") as db:
        columns = [row[1] for row in db.execute("pragma table_info(reports)")]
        assert not any("pseudonym" in c or "user" in c for c in columns)
        logged = " ".join(t for (t,) in db.execute("select text from messages"))
        assert "ремнём" not in logged and number not in logged and code not in logged
