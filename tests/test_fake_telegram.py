"""The fake Bot API against the real PTB client: if PTB accepts it, the bot's e2e tests can too."""

from __future__ import annotations

import asyncio
import datetime as dtm
import socket
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import ClientSession, web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatMemberStatus, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, filters
from telegram.ext import MessageHandler as PtbMessageHandler

from tests.fake_telegram import DEFAULT_TOPIC_COLOR, MEDIA_KINDS, FakeBotApi, UploadedFile

TOKEN = "123456:TEST-token_abc"
USER = 5550001
JSON_HEADER = {"Content-Type": "application/json"}


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


@pytest_asyncio.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url) as client:
        yield client


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Да", callback_data="yes"),
                InlineKeyboardButton("Нет", callback_data="no"),
            ],
            [InlineKeyboardButton("Сайт", url="https://example.kz")],
        ]
    )


# --- basics --------------------------------------------------------------------------------------
async def test_get_me_through_ptb(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "syrlas_test_bot" and me.is_bot and me.id == 123456
    assert bot.username == "syrlas_test_bot"  # Bot.initialize() already called getMe
    assert api.base_url == f"http://127.0.0.1:{api.port}/bot"
    assert len(api.calls_of("getme")) == 2  # names are case-insensitive, recorded canonically


async def test_wrong_token_is_invalid_token(api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=api.base_url):
            pass
    assert api.calls[-1].status == 401


async def test_send_message_records_decoded_markup_and_parses_html(
    api: FakeBotApi, bot: Bot
) -> None:
    first = await bot.send_message(
        USER,
        "<b>Привет</b> &lt;3 😀 <i>мама</i>",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(),
    )
    second = await bot.send_message(USER, "второе")

    assert second.message_id > first.message_id
    assert first.chat.id == USER and first.from_user and first.from_user.is_bot
    assert first.text == "Привет <3 😀 мама"
    assert first.reply_markup == keyboard()
    # Offsets are UTF-16 units: the emoji counts twice.
    assert first.entities == (
        MessageEntity(MessageEntity.BOLD, 0, 6),
        MessageEntity(MessageEntity.ITALIC, 13, 4),
    )
    assert first.parse_entity(first.entities[1]) == "мама"

    call = api.calls_of("sendMessage")[0]
    assert call.ok and call.params["chat_id"] == USER and call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Да", "callback_data": "yes"}, {"text": "Нет", "callback_data": "no"}],
            [{"text": "Сайт", "url": "https://example.kz"}],
        ]
    }
    assert api.sent_texts(USER) == ["Привет <3 😀 мама", "второе"]
    assert api.sent_texts(USER, raw=True)[0].startswith("<b>Привет</b> &lt;3")


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("a < b", ParseMode.HTML, "can't parse entities: unclosed start tag"),
        ("<div>x</div>", ParseMode.HTML, 'unsupported start tag "div"'),
        ("<br/>", ParseMode.HTML, 'unsupported start tag "br"'),
        ("<b>x", ParseMode.HTML, "can't find end tag"),
        ("<b>x</i>", ParseMode.HTML, "unexpected end tag"),
        ("   ", None, "message text is empty"),
        ("я" * 4097, None, "message is too long"),
    ],
)
async def test_send_message_rejects_what_telegram_rejects(
    bot: Bot, text: str, parse_mode: str | None, error: str
) -> None:
    # PTB drops the "Bad Request: " prefix and capitalises the rest.
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.send_message(USER, text, parse_mode=parse_mode)


async def test_callback_data_over_64_bytes_is_rejected(bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="ж" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "hi", reply_markup=markup)


async def test_edit_delete_and_callback_answers(api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Вопрос?", reply_markup=keyboard())
    edited = await bot.edit_message_text("Вопрос (изменён)", USER, sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Вопрос (изменён)"
    assert edited.reply_markup is None and edited.edit_date  # an edit without markup drops it
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Вопрос (изменён)", USER, sent.message_id)
    with_markup = await bot.edit_message_reply_markup(
        USER, sent.message_id, reply_markup=keyboard()
    )
    assert isinstance(with_markup, Message) and with_markup.reply_markup == keyboard()

    press = api.callback_query(USER, "yes", message_id=sent.message_id)
    assert press["callback_query"]["message"]["reply_markup"] == keyboard().to_dict()
    query_id = press["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)

    assert await bot.delete_message(USER, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    assert api.chat_history(USER) == []
    assert await bot.send_chat_action(USER, ChatAction.TYPING)
    assert await bot.leave_chat(-100777)


async def test_unknown_method_is_404_and_recorded(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendGreeting", api_kwargs={"chat_id": USER, "question": "?"})
    call = api.calls_of("sendGreeting")[0]
    assert call.status == 404 and call.params == {"chat_id": USER, "question": "?"}
    assert call.response == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert api.unknown_methods == ["sendGreeting"]


async def test_raw_http_get_json_and_multipart(api: FakeBotApi, bot: Bot) -> None:
    """Other clients than PTB's form encoding: a GET with a query, a JSON body, multipart."""
    url = f"{api.base_url}{TOKEN}"
    async with ClientSession() as session:
        async with session.get(f"{url}/getMe") as response:
            assert response.status == 200
            assert (await response.json())["result"]["username"] == "syrlas_test_bot"
        body = {"chat_id": USER, "text": "json", "reply_markup": keyboard().to_dict()}
        async with session.post(f"{url}/sendMessage", json=body) as response:
            assert (await response.json())["result"]["reply_markup"] == keyboard().to_dict()
        async with session.post(f"{url}/getUpdates", data="{not json", headers=JSON_HEADER) as bad:
            assert bad.status == 400
    assert api.calls_of("sendMessage")[0].params == body

    # Not implemented, so PTB sees a 404 (which it reports as InvalidToken), but recorded.
    with pytest.raises(InvalidToken):
        await bot.send_document(USER, b"%PDF-1.4", filename="a.pdf", caption="analysis")
    upload = api.calls_of("sendDocument")[0].params
    assert upload["caption"] == "analysis" and upload["chat_id"] == USER
    assert isinstance(upload["document"], UploadedFile)
    assert upload["document"].filename == "a.pdf" and upload["document"].data == b"%PDF-1.4"


# --- updates -------------------------------------------------------------------------------------
async def test_get_updates_parses_every_kind_of_update(api: FakeBotApi, bot: Bot) -> None:
    start = api.push(api.text_message(USER, "/start", username="aigerim_k", last_name="S."))
    reply = await bot.send_message(USER, "Выберите", reply_markup=keyboard())
    api.push(api.callback_query(USER, "yes", message_id=reply.message_id, language_code="kk"))
    for kind in MEDIA_KINDS:
        api.push(api.media_message(USER, kind))
    api.push(api.edited_message(USER, "/help please", start["message"]["message_id"]))
    api.push(api.group_message(USER, -100123, "привет всем"))
    api.push(api.group_message(USER, -4567, "/start@syrlas_test_bot"))
    api.push(api.channel_post(-100999, "новости"))
    api.push(api.my_chat_member(USER, "kicked"))
    api.push(api.my_chat_member(USER, "administrator", chat_id=-100123))
    api.push(api.text_message(USER, "fwd", forward_from_user={"id": 77, "first_name": "Dana"}))

    updates = await bot.get_updates(allowed_updates=Update.ALL_TYPES)
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)
    first = updates[0]
    assert first.message and first.message.text == "/start"
    assert first.message.parse_entities([MessageEntity.BOT_COMMAND]) != {}
    assert first.effective_user and first.effective_user.language_code == "ru"
    assert first.effective_chat and first.effective_chat.type == "private"
    assert filters.COMMAND.check_update(first)

    query = updates[1].callback_query
    assert query and query.data == "yes" and query.from_user.language_code == "kk"
    assert query.message and query.message.chat.id == USER
    assert getattr(query.message, "reply_markup", None) == keyboard()

    media = updates[2 : 2 + len(MEDIA_KINDS)]
    for kind, update in zip(MEDIA_KINDS, media, strict=True):
        assert update.message and getattr(update.message, kind), kind
        assert not filters.TEXT.check_update(update)
    assert media[MEDIA_KINDS.index("sticker")].message.sticker.is_animated is False  # type: ignore[union-attr]

    rest = updates[2 + len(MEDIA_KINDS) :]
    assert rest[0].edited_message and rest[0].edited_message.text == "/help please"
    assert rest[0].edited_message.edit_date is not None
    assert rest[1].effective_chat and rest[1].effective_chat.type == "supergroup"
    assert rest[2].effective_chat and rest[2].effective_chat.type == "group"
    assert rest[3].channel_post and rest[3].channel_post.text == "новости"
    assert rest[3].effective_user is None
    assert rest[4].my_chat_member
    assert rest[4].my_chat_member.new_chat_member.status == ChatMemberStatus.BANNED
    assert rest[5].my_chat_member
    assert rest[5].my_chat_member.new_chat_member.status == ChatMemberStatus.ADMINISTRATOR
    forwarded = rest[6].message
    assert forwarded and forwarded.forward_origin and forwarded.forward_origin.type == "user"


async def test_get_updates_offset_limit_and_allowed_updates(api: FakeBotApi, bot: Bot) -> None:
    ids = [api.push(api.text_message(USER, f"m{i}"))["update_id"] for i in range(3)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    # Unconfirmed updates come again; an offset confirms everything below it.
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert api.pending_updates == []

    api.push(api.channel_post(-100999, "skip me"))
    api.push(api.text_message(USER, "keep me"))
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["keep me"]
    assert len(updates) == 1 and len(api.dropped_updates) == 1

    for i in range(3):
        api.push(api.text_message(USER, f"n{i}"))
    updates = await bot.get_updates(offset=-1)  # only the newest, the rest forgotten
    assert [u.message.text for u in updates if u.message] == ["n2"]


async def test_long_poll_waits_and_returns_early(api: FakeBotApi, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3

    async def push_later() -> None:
        await api.wait_for("getUpdates", lambda c: c.status is None)
        await asyncio.sleep(0.2)
        api.push(api.text_message(USER, "late"))

    pusher = asyncio.create_task(push_later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=10)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["late"]
    await pusher


async def test_close_answers_long_polls_in_flight() -> None:
    fake = await FakeBotApi(token=TOKEN).start()
    async with Bot(TOKEN, base_url=fake.base_url) as client:
        poll = asyncio.create_task(client.get_updates(timeout=30))
        await fake.wait_for("getUpdates")
        started = time.monotonic()
        await fake.close()
        assert await asyncio.wait_for(poll, 5) == ()
        assert time.monotonic() - started < 2


async def test_wait_for_times_out_listing_recent_calls(api: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(USER, "hello")
    with pytest.raises(TimeoutError, match=r"(?s)no deleteMessage call within 0.2s.*sendMessage"):
        await api.wait_for("deleteMessage", timeout=0.2)
    later = asyncio.create_task(bot.send_message(USER, "second"))
    call = await api.wait_for("sendMessage", start=len(api.calls))
    assert call.params["text"] == "second"
    await later


# --- failures ------------------------------------------------------------------------------------
# PTB 22 warns that RetryAfter.retry_after will become a timedelta.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_429_is_retry_after(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", error_code=429, retry_after=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert caught.value.retry_after in (1, dtm.timedelta(seconds=1))
    assert api.calls[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert (await bot.send_message(USER, "x")).text == "x"  # only the next one failed

    api.fail_next("sendMessage", error_code=400, description="Bad Request: boom", chat_id=42)
    await bot.send_message(USER, "other chat is fine")
    with pytest.raises(BadRequest, match=r"(?i)boom"):
        await bot.send_message(42, "x")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limiter_retries_after_429(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", retry_after=1)
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .build()
    )
    async with application:
        message = await application.bot.send_message(USER, "eventually")
    sends = api.calls_of("sendMessage")
    assert message.text == "eventually" and [c.status for c in sends] == [429, 200]
    assert sends[1].at - sends[0].at >= 1.0


async def test_blocked_user_is_forbidden(api: FakeBotApi, bot: Bot) -> None:
    api.block_user(USER, notify=True)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "x")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER, ChatAction.TYPING)
    assert (await bot.send_message(USER + 1, "others still get it")).chat.id == USER + 1
    (update,) = await bot.get_updates()
    assert update.my_chat_member and update.my_chat_member.new_chat_member.status == "kicked"
    api.unblock_user(USER)
    assert await bot.send_message(USER, "back")


# --- commands and webhooks -----------------------------------------------------------------------
async def test_commands_are_stored_per_scope_and_language(api: FakeBotApi, bot: Bot) -> None:
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("start", "Начать")], scope=private, language_code="ru")
    await bot.set_my_commands([BotCommand("start", "Бастау")], scope=private, language_code="kk")
    await bot.set_my_commands([BotCommand("help", "Help")])

    assert api.commands("all_private_chats", "kk") == [
        {"command": "start", "description": "Бастау"}
    ]
    assert api.commands() == [{"command": "help", "description": "Help"}]
    assert api.commands("all_private_chats") is None
    ru = await bot.get_my_commands(scope=private, language_code="ru")
    assert ru == (BotCommand("start", "Начать"),)
    assert await bot.delete_my_commands(scope=private, language_code="ru")
    assert await bot.get_my_commands(scope=private, language_code="ru") == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start-Now", "x")])


async def test_webhook_settings_and_delivery(api: FakeBotApi, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret-token", allowed_updates=["message"])
        assert api.webhook_url == url and api.webhook_secret == "s3cret-token"
        info = await bot.get_webhook_info()
        assert info.url == url and info.allowed_updates == ("message",)
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed"):
            await bot.set_webhook(url, secret_token="no spaces allowed")

        update = api.text_message(USER, "через вебхук")
        assert await api.post_to_webhook(url, update, secret_token="s3cret-token") == 200
        assert await api.deliver(api.text_message(USER, "deliver")) == 200
        assert [secret for secret, _ in received] == ["s3cret-token", "s3cret-token"]
        assert received[0][1] == update

        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
        assert await api.deliver(api.text_message(USER, "polled")) is None
        assert len(await bot.get_updates()) == 1
    finally:
        await runner.cleanup()


# --- forum supergroups (topics) -------------------------------------------------------------------
FORUM = -1001234567890


async def test_forum_topic_lifecycle(api: FakeBotApi, bot: Bot) -> None:
    chat = api.forum_group(FORUM)
    assert chat == {"id": FORUM, "type": "supergroup", "title": "Consultants", "is_forum": True}
    topic = await bot.create_forum_topic(FORUM, "  Заявка #1 Айгерим  ")
    thread = topic.message_thread_id
    assert topic.name == "Заявка #1 Айгерим" and topic.icon_color == DEFAULT_TOPIC_COLOR
    assert api.topics(FORUM) == {
        thread: {"name": "Заявка #1 Айгерим", "icon_color": DEFAULT_TOPIC_COLOR, "closed": False}
    }
    # The creation service message's id is the thread id.
    (created,) = api.chat_history(FORUM)
    assert created["message_id"] == thread and created["message_thread_id"] == thread
    assert created["forum_topic_created"]["name"] == "Заявка #1 Айгерим"

    sent = await bot.send_message(
        FORUM,
        "<b>Новая</b> заявка",
        parse_mode="HTML",
        message_thread_id=thread,
        reply_markup=keyboard(),
    )
    assert sent.message_thread_id == thread and sent.is_topic_message is True
    assert sent.chat.is_forum and sent.text == "Новая заявка"
    assert sent.reply_to_message and sent.reply_to_message.forum_topic_created
    assert sent.reply_to_message.message_id == thread
    edited = await bot.edit_message_text("Заявка принята", FORUM, sent.message_id)
    assert isinstance(edited, Message) and edited.message_thread_id == thread
    assert edited.is_topic_message and edited.text == "Заявка принята"
    marked = await bot.edit_message_reply_markup(FORUM, sent.message_id, reply_markup=keyboard())
    assert isinstance(marked, Message) and marked.message_thread_id == thread
    general = await bot.send_message(FORUM, "в общий чат")
    assert general.message_thread_id is None and not general.is_topic_message
    assert api.thread_texts(FORUM, thread) == ["Новая заявка"]
    assert api.thread_texts(FORUM, thread, raw=True) == ["<b>Новая</b> заявка"]

    assert await bot.edit_forum_topic(FORUM, thread, name="Заявка #1 (в работе)")
    assert api.topics(FORUM)[thread]["name"] == "Заявка #1 (в работе)"
    assert await bot.edit_forum_topic(FORUM, thread)  # nothing asked, nothing done
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):  # as Telegram answers bots
        await bot.edit_forum_topic(FORUM, thread, name="Заявка #1 (в работе)")

    assert await bot.close_forum_topic(FORUM, thread)
    assert api.topics(FORUM)[thread]["closed"] is True
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_CLOSED"):
        await bot.send_message(FORUM, "поздно", message_thread_id=thread)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(FORUM, thread)
    assert await bot.reopen_forum_topic(FORUM, thread)
    assert (await bot.send_message(FORUM, "снова", message_thread_id=thread)).is_topic_message
    events = [m for m in api.chat_history(FORUM) if m.get("message_thread_id") == thread]
    assert [k for m in events for k in m if k.startswith("forum_topic_")] == [
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
    ]

    assert await bot.delete_forum_topic(FORUM, thread)
    assert api.topics(FORUM) == {}
    # The topic's messages went with it; General's stayed.
    assert [m["message_id"] for m in api.chat_history(FORUM)] == [general.message_id]
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(FORUM, "x", message_thread_id=thread)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_ID_INVALID"):
        await bot.delete_forum_topic(FORUM, thread)


async def test_forum_topic_errors(api: FakeBotApi, bot: Bot) -> None:
    api.forum_group(FORUM)
    with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
        await bot.create_forum_topic(-100555, "x")  # a plain supergroup
    with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
        await bot.create_forum_topic(USER, "x")
    with pytest.raises(BadRequest, match=r"(?i)title must be non-empty"):
        await bot.create_forum_topic(FORUM, "   ")
    with pytest.raises(BadRequest, match=r"(?i)invalid icon color"):
        await bot.create_forum_topic(FORUM, "x", icon_color=0x123456)
    long = await bot.create_forum_topic(FORUM, "я" * 200, icon_color=16766590)
    assert long.name == "я" * 128 and long.icon_color == 16766590  # truncated, like tdlib

    for thread in (999, 1):  # unknown; General is not a thread a bot can address
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await bot.send_message(FORUM, "x", message_thread_id=thread)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(-100555, "x", message_thread_id=long.message_thread_id)
    for call in (bot.edit_forum_topic, bot.close_forum_topic, bot.reopen_forum_topic):
        with pytest.raises(BadRequest, match=r"(?i)TOPIC_ID_INVALID"):
            await call(FORUM, 999)  # type: ignore[operator]
    with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
        await bot.close_forum_topic(-100555, long.message_thread_id)
    assert await bot.send_chat_action(
        FORUM, ChatAction.TYPING, message_thread_id=long.message_thread_id
    )


async def test_reply_in_a_topic_stays_in_the_topic(api: FakeBotApi, bot: Bot) -> None:
    api.forum_group(FORUM)
    thread = api.add_topic(FORUM, "Вопросы", creator_id=USER)
    asked = api.topic_message(USER, FORUM, thread, "Сколько стоит?")["message"]
    answer = await bot.send_message(
        FORUM, "10 000 ₸", reply_parameters=ReplyParameters(asked["message_id"])
    )
    assert answer.message_thread_id == thread and answer.is_topic_message
    assert answer.reply_to_message and answer.reply_to_message.text == "Сколько стоит?"
    assert api.thread_texts(FORUM, thread) == ["10 000 ₸"]


async def test_forum_updates_parse_in_ptb(api: FakeBotApi, bot: Bot) -> None:
    api.forum_group(FORUM, title="Консультанты")
    thread = (await bot.create_forum_topic(FORUM, "Клиент 42")).message_thread_id
    card = await bot.send_message(
        FORUM, "Карточка", message_thread_id=thread, reply_markup=keyboard()
    )
    api.push(api.topic_message(7001, FORUM, thread, "/take@syrlas_test_bot", username="dana_c"))
    api.push(api.topic_message(7001, FORUM, thread, "ок", reply_to_bot_message_id=card.message_id))
    api.push(api.topic_media_message(7001, FORUM, thread, "document", caption="анализы"))
    api.push(api.general_message(7002, FORUM, "всем привет", first_name="Ерлан"))
    api.push(api.group_callback_query(7001, FORUM, "yes", message_id=card.message_id))
    api.push(api.group_callback_query(7002, FORUM, "no", message_id=4242))  # a stand-in
    api.push(api.topic_message(7003, FORUM, 5000, "в новой теме"))  # unknown topic: made

    command, reply, media, general, press, stand_in, fresh = await bot.get_updates()
    for update in (command, reply, media):
        message = update.effective_message
        assert message and message.message_thread_id == thread and message.is_topic_message
        assert message.chat.is_forum and message.chat.title == "Консультанты"
    assert command.effective_user and command.effective_user.username == "dana_c"
    assert command.effective_user.first_name == "Dana"
    assert filters.COMMAND.check_update(command)
    assert command.message and command.message.reply_to_message
    assert command.message.reply_to_message.forum_topic_created
    assert command.message.reply_to_message.forum_topic_created.name == "Клиент 42"
    assert reply.message and reply.message.reply_to_message
    assert reply.message.reply_to_message.message_id == card.message_id
    assert media.message and media.message.document and media.message.caption == "анализы"

    assert general.message and general.message.message_thread_id is None
    assert not general.message.is_topic_message and general.message.chat.is_forum

    query = press.callback_query
    assert query and query.data == "yes" and query.from_user.id == 7001
    assert isinstance(query.message, Message) and query.message.message_thread_id == thread
    assert query.message.is_topic_message and query.message.reply_markup == keyboard()
    assert press.effective_message and press.effective_message.message_thread_id == thread
    assert await bot.answer_callback_query(query.id)
    assert stand_in.callback_query and isinstance(stand_in.callback_query.message, Message)
    assert stand_in.callback_query.message.message_thread_id is None

    assert fresh.message and fresh.message.message_thread_id == 5000
    assert api.topics(FORUM)[5000]["name"] == "Topic 5000"
    assert (await bot.send_message(FORUM, "ответ", message_thread_id=5000)).is_topic_message


async def test_requests_to_filters_by_chat(api: FakeBotApi, bot: Bot) -> None:
    api.forum_group(FORUM)
    topic = await bot.create_forum_topic(FORUM, "Тема")
    await bot.send_message(USER, "личное")
    await bot.send_message(FORUM, "в тему", message_thread_id=topic.message_thread_id)
    with pytest.raises(BadRequest):
        await bot.send_message(FORUM, "x", message_thread_id=999)
    await bot.send_chat_action(str(FORUM), ChatAction.TYPING)
    assert [(c.method, c.ok) for c in api.requests_to(FORUM)] == [
        ("createForumTopic", True),
        ("sendMessage", True),
        ("sendMessage", False),
        ("sendChatAction", True),
    ]
    assert [c.method for c in api.requests_to(USER)] == ["sendMessage"]


async def test_application_replies_in_the_topic(api: FakeBotApi) -> None:
    """PTB's reply_text answers in the member's topic: the bot under test can rely on it."""

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message
        await update.effective_message.reply_text(f"принято: {update.effective_message.text}")

    api.forum_group(FORUM)
    thread = api.add_topic(FORUM, "Клиент")
    application = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
    application.add_handler(PtbMessageHandler(filters.TEXT, answer))
    async with application:
        await application.start()
        assert application.updater
        await application.updater.start_polling(timeout=5)
        api.push(api.topic_message(7001, FORUM, thread, "вопрос"))
        call = await api.wait_for("sendMessage")
        await application.updater.stop()
        await application.stop()
    assert call.ok and call.params["message_thread_id"] == thread
    assert api.thread_texts(FORUM, thread) == ["принято: вопрос"]


# --- the real Application, end to end ------------------------------------------------------------
async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat and update.effective_message
    await context.bot.send_message(
        update.effective_chat.id, f"echo: {update.effective_message.text}"
    )


def _application(api: FakeBotApi) -> Application:
    application = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
    application.add_handler(PtbMessageHandler(filters.TEXT, _echo))
    return application


async def test_application_polling_round_trip(api: FakeBotApi) -> None:
    application = _application(api)
    async with application:
        await application.start()
        assert application.updater
        await application.updater.start_polling(timeout=5, allowed_updates=["message"])
        api.push(api.text_message(USER, "салем"))
        call = await api.wait_for("sendMessage")
        assert call.params == {"chat_id": USER, "text": "echo: салем"}
        await application.updater.stop()
        await application.stop()
    assert api.calls_of("deleteWebhook")  # PTB's polling bootstrap
    assert api.pending_updates == []  # the final getUpdates on stop confirmed the offset


async def test_application_webhook_round_trip(api: FakeBotApi) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    application = _application(api)
    async with application:
        await application.start()
        assert application.updater
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="tg",
            webhook_url=f"http://127.0.0.1:{port}/tg",
            secret_token="hook_secret",
        )
        assert api.webhook_secret == "hook_secret"
        assert await api.deliver(api.text_message(USER, "hook")) == 200
        assert await api.post_to_webhook(api.webhook_url, api.text_message(USER, "x")) == 403
        call = await api.wait_for("sendMessage")
        assert call.params["text"] == "echo: hook"
        await application.updater.stop()
        await application.stop()
