"""A local fake of the Telegram Bot API over real HTTP, for end-to-end tests of the bot.

The real PTB client talks to it exactly as it talks to api.telegram.org: it POSTs to
``{base_url}{token}/{method}`` form-encoded (multipart when uploading) parameters whose
non-string values are JSON, and reads ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}`` back, with the error
code as the HTTP status (PTB picks its exception class from that status).

The fake keeps just enough state to answer like Telegram does (messages, the update queue,
command menus, the webhook), rejects what Telegram would reject (bad HTML, over-long texts,
callback data over 64 bytes, unmodified edits, stale callback queries), records every call, and
can inject failures. Forum supergroups (``forum_group``) have topics: the forum-topic methods,
``message_thread_id`` on sendMessage, and builders for what members write in a topic. Usage::

    async with FakeBotApi(token="123:ABC") as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        ...
        api.push(api.text_message(42, "/start"))
        call = await api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 42)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import ClientSession, ClientTimeout, web

JSON = dict[str, Any]

BOT_USERNAME = "syrlas_test_bot"
TEXT_LIMIT = 4096  # characters of a message text after entity parsing
CALLBACK_DATA_LIMIT = 64  # bytes
BLOCKED = "Forbidden: bot was blocked by the user"
METHOD_NOT_FOUND = "Not Found: method not found"
STALE_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is"
    " running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete"
    " the webhook first"
)
# Forum topics; the texts are what the Bot API answers (tdlib's errors with a lower-case first
# letter, or the MTProto error name).
NOT_A_FORUM = "Bad Request: the chat is not a forum"
THREAD_NOT_FOUND = "Bad Request: message thread not found"
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"
TOPIC_ID_INVALID = "Bad Request: TOPIC_ID_INVALID"
TOPIC_NOT_MODIFIED = "Bad Request: TOPIC_NOT_MODIFIED"
TOPIC_NAME_EMPTY = "Bad Request: title must be non-empty"
INVALID_THREAD_ID = "Bad Request: invalid message thread identifier specified"
INVALID_ICON_COLOR = "Bad Request: invalid icon color specified"
TOPIC_NAME_LIMIT = 128  # characters; tdlib truncates longer names instead of refusing them
DEFAULT_TOPIC_COLOR = 7322096  # 0x6FB9F0
TOPIC_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
ERROR_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# What Telegram sends when allowed_updates is empty or was never given.
DEFAULT_UPDATE_TYPES = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
MEDIA_KINDS = (
    "sticker",
    "photo",
    "voice",
    "video",
    "video_note",
    "document",
    "location",
    "contact",
    "animation",
    "audio",
)
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Methods that address a chat, and so fail with 403 once the user has blocked the bot.
CHAT_BOUND = frozenset(
    {
        "sendMessage",
        "sendChatAction",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "deleteMessages",
    }
)
# Form values arrive as strings; these stay strings, the rest are JSON when they parse as JSON
# (PTB json.dumps every non-string value: ints, bools, lists, markups).
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "action",
        "language_code",
        "url",
        "secret_token",
        "ip_address",
        "callback_query_id",
        "inline_message_id",
        "emoji",
        "title",
        "description",
        "short_description",
        "name",
        "business_connection_id",
        "message_effect_id",
        "question",
        "address",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "performer",
        "custom_title",
        "sticker",
        "photo",
        "audio",
        "document",
        "video",
        "animation",
        "voice",
        "video_note",
        "thumbnail",
        "file_id",
        "query",
        "payload",
        "currency",
        "start_parameter",
        "icon_custom_emoji_id",
    }
)


@dataclass
class Call:
    """One request the bot made. ``at`` is ``time.monotonic()`` on arrival (for measuring gaps,
    e.g. a retry after ``retry_after``); ``status``/``response`` are filled once answered, so a
    long-poll still waiting has ``status is None``."""

    method: str
    params: JSON
    at: float
    status: int | None = None
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return None if self.response is None else self.response.get("result")

    def describe(self) -> str:
        params = json.dumps(self.params, ensure_ascii=False, default=repr)
        if len(params) > 160:
            params = params[:157] + "..."
        return f"{self.method} -> {self.status} {params}"


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part, as the bot uploaded it."""

    field: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class _Failure:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | str | None


class ApiError(Exception):
    """Raised by a method implementation; answered as ``{"ok": false, ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _same_chat(a: object, b: object) -> bool:
    return a is not None and b is not None and str(a) == str(b)


def _decode_value(key: str, value: str) -> Any:
    if key in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


# --- Telegram's HTML parse mode ------------------------------------------------------------------
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)?([^<>]*)>")
_ATTR_RE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
# Telegram supports only these named entities, plus all numeric ones; a lone '&' stays literal.
_ENTITY_RE = re.compile(r"&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|(lt|gt|amp|quot));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}


def _parse_error(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {detail}")


def _open_entity(
    name: str, attributes: str, offset: int, stack: list[tuple[str, JSON]], byte_offset: int
) -> JSON:
    """The entity a start tag opens; type None for tags that format nothing themselves."""
    attrs = {
        match.group(1).lower(): html.unescape(
            next((g for g in match.group(2, 3, 4) if g is not None), "")
        )
        for match in _ATTR_RE.finditer(attributes)
    }
    entity: JSON = {"type": None, "offset": offset}
    if name == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity carrying the language.
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][1]["language"] = language.removeprefix("language-")
        return entity
    if name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[name]
    elif name == "span" and attrs.get("class") == "tg-spoiler":
        entity["type"] = "spoiler"
    elif name == "a":
        if attrs.get("href"):
            entity.update(type="text_link", url=attrs["href"])
    elif name == "tg-emoji" and attrs.get("emoji-id"):
        entity.update(type="custom_emoji", custom_emoji_id=attrs["emoji-id"])
    else:
        raise _parse_error(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
    return entity


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Plain text and entities, as Telegram derives them for ``parse_mode=HTML``; raises the
    400 Telegram answers for markup it cannot parse (unknown tags, a bare '<', unbalanced tags)."""
    out: list[str] = []
    length = 0
    stack: list[tuple[str, JSON]] = []
    entities: list[JSON] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            byte_offset = len(source[:i].encode())
            match = _TAG_RE.match(source, i)
            if match is None:
                raise _parse_error(f"Unclosed start tag at byte offset {byte_offset}")
            closing, name, rest = match.group(1), (match.group(2) or "").lower(), match.group(3)
            if closing:
                if not stack or stack[-1][0] != name:
                    raise _parse_error(f"Unexpected end tag at byte offset {byte_offset}")
                _, entity = stack.pop()
                entity["length"] = length - entity["offset"]
                if entity["type"] and entity["length"] > 0:
                    entities.append(entity)
            else:
                stack.append((name, _open_entity(name, rest, length, stack, byte_offset)))
            i = match.end()
            continue
        piece = char
        if char == "&" and (match := _ENTITY_RE.match(source, i)):
            decimal, hexadecimal, named = match.groups()
            if named:
                piece = _NAMED_ENTITIES[named]
            else:
                piece = chr(int(decimal) if decimal else int(hexadecimal, 16))
            i = match.end()
        else:
            i += 1
        out.append(piece)
        length += _utf16_len(piece)
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --- the fake server -----------------------------------------------------------------------------
Handler = Callable[[JSON], Coroutine[Any, Any, Any]]


class FakeBotApi:
    """The Bot API on 127.0.0.1 (ephemeral port), for one bot token."""

    def __init__(self, token: str = "123:ABC", *, bot_username: str = BOT_USERNAME) -> None:
        self.token = token
        bot_id = token.split(":", 1)[0]
        self.bot_user: JSON = {
            "id": int(bot_id) if bot_id.isdigit() else 123,
            "is_bot": True,
            "first_name": "Syrlas (test)",
            "username": bot_username,
        }
        self.calls: list[Call] = []
        self.deleted: set[tuple[int, int]] = set()  # (chat id, message id) deleted by the bot
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] | None = None
        self._webhook_extra: JSON = {}
        self.dropped_updates: list[JSON] = []  # of types not in allowed_updates, never delivered
        self.port: int | None = None

        self._runner: web.AppRunner | None = None
        self._closed = False
        self._pending: list[JSON] = []  # unconfirmed updates, ascending update_id
        self._update_ids = 0  # the last update_id handed out, by a builder or push()
        self._last_pushed_id = 0
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._updates_changed = asyncio.Event()
        self._calls_changed = asyncio.Event()
        self._failures: list[_Failure] = []
        self._blocked: set[str] = set()
        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._messages: dict[tuple[int, int], JSON] = {}  # (chat id, message id) -> Message
        self._last_message_id = 0
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(4_210_000_000_000_000_001)
        self._open_queries: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        # forum chat id -> thread id -> {"name", "icon_color", "closed"[, "icon_custom_emoji_id"]}
        self._topics: dict[int, dict[int, JSON]] = {}
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "deleteMessages": self._delete_messages,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "createForumTopic": self._create_forum_topic,
                "editForumTopic": self._edit_forum_topic,
                "closeForumTopic": self._close_forum_topic,
                "reopenForumTopic": self._reopen_forum_topic,
                "deleteForumTopic": self._delete_forum_topic,
                "leaveChat": self._true,
                "close": self._true,
                "logOut": self._true,
            }.items()
        }

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> Self:
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation: a client that hangs up (PTB cancelling a long-poll on stop)
        # ends its handler at once instead of leaving it to wait out the timeout.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=2.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        """Answer in-flight long-polls (empty), then stop the server."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closed = True
        self._wake_pollers()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)``/``ApplicationBuilder().base_url(...)``: PTB appends the
        token."""
        if self.port is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return self.base_url.replace("/bot", "/file/bot")

    # --- inspection -----------------------------------------------------------------------------
    def canonical(self, method: str) -> str:
        """Telegram method names are case-insensitive; calls are recorded by canonical name."""
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method

    def calls_of(self, method: str) -> list[Call]:
        method = self.canonical(method)
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the wait's own budget, as in asyncio.wait_for
        *,
        start: int = 0,
    ) -> Call:
        """The first call of ``method`` (among ``calls[start:]``) matching ``predicate``, waiting
        for it to arrive; pass ``start=len(api.calls)`` to wait for a new one only."""
        method = self.canonical(method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for call in self.calls[start:]:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n".join(f"  {call.describe()}" for call in self.calls[-15:])
                matching = " matching the predicate" if predicate else ""
                raise TimeoutError(
                    f"no {method} call{matching} within {timeout}s "
                    f"({len(self.calls)} calls recorded); the last ones:\n{recent or '  (none)'}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._calls_changed.wait(), remaining)

    def sent_messages(self, chat_id: int | str) -> list[JSON]:
        """The Messages sendMessage delivered to a chat, as Telegram returned them."""
        return [
            call.result
            for call in self.calls_of("sendMessage")
            if call.ok and _same_chat(call.result["chat"]["id"], chat_id)
        ]

    def sent_texts(self, chat_id: int | str, *, raw: bool = False) -> list[str]:
        """Texts delivered to a chat by sendMessage: as the user sees them (HTML parsed), or with
        ``raw=True`` as the bot sent them."""
        return [
            call.params["text"] if raw else call.result["text"]
            for call in self.calls_of("sendMessage")
            if call.ok and _same_chat(call.result["chat"]["id"], chat_id)
        ]

    def thread_texts(self, chat_id: int | str, thread_id: int, *, raw: bool = False) -> list[str]:
        """Texts the bot delivered by sendMessage into forum topic ``thread_id``, in order (as the
        user sees them, or with ``raw=True`` as sent)."""
        return [
            call.params["text"] if raw else call.result["text"]
            for call in self.calls_of("sendMessage")
            if call.ok
            and _same_chat(call.result["chat"]["id"], chat_id)
            and call.result.get("is_topic_message")
            and call.result.get("message_thread_id") == thread_id
        ]

    def requests_to(self, chat_id: int | str) -> list[Call]:
        """Every recorded call, of any method and outcome, whose chat_id parameter is that chat."""
        return [call for call in self.calls if _same_chat(call.params.get("chat_id"), chat_id)]

    def topics(self, chat_id: int) -> dict[int, JSON]:
        """The forum's live topics: thread id -> {"name", "icon_color", "closed"} (plus
        "icon_custom_emoji_id" when one is set); deleted topics are gone."""
        return copy.deepcopy(self._topics.get(chat_id, {}))

    def chat_history(self, chat_id: int) -> list[JSON]:
        """What the chat shows now: both sides' messages, after edits and deletions."""
        return [
            copy.deepcopy(message)
            for (chat, _), message in sorted(self._messages.items(), key=lambda kv: kv[0][1])
            if chat == chat_id
        ]

    def commands(
        self, scope: JSON | str | None = None, language_code: str | None = None
    ) -> list[JSON] | None:
        """The menu stored by setMyCommands for a scope (dict or type name) and language."""
        if isinstance(scope, str):
            scope = {"type": scope}
        return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code)))

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._pending)

    @property
    def unknown_methods(self) -> list[str]:
        return [call.method for call in self.calls if call.method.lower() not in self._methods]

    # --- failure injection ----------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id`` when given) fail. A 429 carries
        ``parameters.retry_after`` (default 1) and "Too Many Requests: retry after N"; other codes
        carry retry_after only when given, since PTB turns any retry_after into RetryAfter."""
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else ERROR_DESCRIPTIONS.get(error_code, f"Error {error_code}")
            )
        self._failures.append(
            _Failure(self.canonical(method), error_code, description, retry_after, times, chat_id)
        )

    def clear_failures(self) -> None:
        self._failures.clear()

    def block_user(self, chat_id: int, *, notify: bool = False) -> None:
        """The user blocked the bot: sends to their chat fail with 403. ``notify`` also queues
        the my_chat_member update ("kicked") Telegram sends at that moment."""
        self._blocked.add(str(chat_id))
        if notify:
            self.push(self.my_chat_member(chat_id, "kicked"))

    def unblock_user(self, chat_id: int) -> None:
        self._blocked.discard(str(chat_id))

    # --- delivery -------------------------------------------------------------------------------
    def push(self, update: JSON) -> JSON:
        """Queue an update for getUpdates; returns the queued copy. An update_id not above the
        last queued one is renumbered, since getUpdates offsets assume ids only grow."""
        update = copy.deepcopy(update)
        if not isinstance(update.get("update_id"), int) or (
            update["update_id"] <= self._last_pushed_id
        ):
            update["update_id"] = self._new_update_id()
        self._last_pushed_id = update["update_id"]
        self._update_ids = max(self._update_ids, self._last_pushed_id)
        self._pending.append(update)
        self._wake_pollers()
        return copy.deepcopy(update)

    async def post_to_webhook(self, url: str, update: JSON, secret_token: str | None = None) -> int:
        """POST an update as Telegram does; returns the webhook's HTTP status."""
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        async with (
            ClientSession(timeout=ClientTimeout(total=30)) as session,
            session.post(url, data=_dumps(update).encode(), headers=headers) as response,
        ):
            await response.read()
            return response.status

    async def deliver(self, update: JSON) -> int | None:
        """Deliver however the bot asked: to its webhook (returns the status) or by getUpdates."""
        if self.webhook_url:
            return await self.post_to_webhook(self.webhook_url, update, self.webhook_secret)
        self.push(update)
        return None

    # --- update builders ------------------------------------------------------------------------
    def text_message(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Aigerim",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        chat_type: str = "private",
        chat_id: int | None = None,
        forward_from_user: JSON | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A text from a user; a leading /command gets its bot_command entity, as in Telegram."""
        user = self._remember_user(user_id, first_name, last_name, username, language_code)
        if chat_type == "private":
            chat = self._private_chat(user)
        else:
            group_id = chat_id if chat_id is not None else -(10**12) - user_id
            chat = self._group_chat(group_id, chat_type)
        fields: JSON = {"text": text}
        if entities is None:
            entities = _command_entities(text)
        if entities:
            fields["entities"] = entities
        if forward_from_user is not None:
            sender = {"is_bot": False, "first_name": "Forwarded", **forward_from_user}
            fields["forward_origin"] = {
                "type": "user",
                "date": int(time.time()) - 60,
                "sender_user": sender,
            }
        return self._update("message", self._new_message(chat, user, **fields))

    def callback_query(
        self, user_id: int, data: str, *, message_id: int, language_code: str | None = "ru"
    ) -> JSON:
        """A button press under bot message ``message_id`` in the user's private chat."""
        user = self._known_user(user_id, language_code)
        return self._callback(user, self._private_chat(user), data, message_id, None)

    def group_callback_query(
        self,
        user_id: int,
        chat_id: int,
        data: str,
        *,
        message_id: int,
        first_name: str = "Dana",
        username: str | None = None,
        language_code: str | None = "ru",
        thread_id: int | None = None,
    ) -> JSON:
        """A group member pressed a button under bot message ``message_id`` in group ``chat_id``.
        The query's message is the stored one (with its ``message_thread_id``/``is_topic_message``
        when it was sent into a topic); an unknown id gets a stand-in bot message, placed in topic
        ``thread_id`` when given."""
        user = self._member(user_id, first_name, None, username, language_code)
        chat = copy.deepcopy(self._chats.get(chat_id)) or self._group_chat(chat_id, None)
        return self._callback(user, chat, data, message_id, thread_id)

    def _callback(
        self, user: JSON, chat: JSON, data: str, message_id: int, thread_id: int | None
    ) -> JSON:
        message = self._messages.get((chat["id"], message_id))
        if message is None or message.get("from", {}).get("id") != self.bot_user["id"]:
            # Unknown (or not the bot's, which Telegram never sends): a stand-in bot message,
            # remembered only if the id is free so that edits to it work.
            stand_in = {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": chat,
                "date": int(time.time()),
                "text": "…",
            }
            if thread_id is not None:
                self._ensure_topic(chat, thread_id, user)
                stand_in.update(self._in_thread(chat, thread_id))
            self._messages.setdefault((chat["id"], message_id), stand_in)
            self._new_message_id(taken=message_id)
            message = stand_in
        query_id = str(next(self._callback_ids))
        self._open_queries.add(query_id)
        return self._update(
            "callback_query",
            {
                "id": query_id,
                "from": user,
                "message": copy.deepcopy(message),
                "chat_instance": str(8_000_000_000_000_000_000 + chat["id"]),
                "data": data,
            },
        )

    def media_message(
        self,
        user_id: int,
        kind: str,
        *,
        caption: str | None = None,
        language_code: str | None = "ru",
    ) -> JSON:
        """A non-text message of ``kind`` (one of MEDIA_KINDS) with a minimal valid payload."""
        user = self._known_user(user_id, language_code)
        fields = self._media_payload(kind, user)
        if caption is not None:
            fields["caption"] = caption
        return self._update("message", self._new_message(self._private_chat(user), user, **fields))

    def edited_message(
        self, user_id: int, text: str, message_id: int, *, language_code: str | None = "ru"
    ) -> JSON:
        """The user edited their message ``message_id`` to ``text``."""
        user = self._known_user(user_id, language_code)
        chat = self._private_chat(user)
        now = int(time.time())
        self._new_message_id(taken=message_id)
        message = self._messages.get((chat["id"], message_id)) or {
            "message_id": message_id,
            "from": user,
            "chat": chat,
            "date": now - 1,
        }
        message = {**message, "text": text, "edit_date": now}
        message.pop("entities", None)
        if entities := _command_entities(text):
            message["entities"] = entities
        self._messages[(chat["id"], message_id)] = message
        return self._update("edited_message", copy.deepcopy(message))

    def group_message(
        self, user_id: int, group_id: int, text: str, *, chat_type: str | None = None
    ) -> JSON:
        """A text in a group; "-100…" ids are supergroups, like in Telegram."""
        user = self._known_user(user_id, None)
        chat = self._group_chat(group_id, chat_type)
        fields: JSON = {"text": text}
        if entities := _command_entities(text):
            fields["entities"] = entities
        return self._update("message", self._new_message(chat, user, **fields))

    # --- forum supergroups ----------------------------------------------------------------------
    def forum_group(self, chat_id: int, title: str = "Consultants") -> JSON:
        """Register supergroup ``chat_id`` (a "-100…" id) with topics enabled; returns its Chat.
        Registering it again keeps its topics."""
        if not str(chat_id).startswith("-100"):
            raise ValueError(f"a forum is a supergroup: its id starts with -100, not {chat_id}")
        chat = {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}
        self._chats[chat_id] = chat
        self._topics.setdefault(chat_id, {})
        self._new_message_id(taken=1)  # message 1 roots General, so no topic gets thread id 1
        return copy.deepcopy(chat)

    def add_topic(
        self,
        chat_id: int,
        name: str,
        *,
        icon_color: int = DEFAULT_TOPIC_COLOR,
        icon_custom_emoji_id: str | None = None,
        creator_id: int | None = None,
    ) -> int:
        """A topic someone else (user ``creator_id``, else an admin) created, without the bot
        calling anything; returns its thread id."""
        chat = self._forum_chat(chat_id)
        creator = (
            self._known_user(creator_id, None)
            if creator_id is not None
            else {"id": 1_000_001, "is_bot": False, "first_name": "Admin"}
        )
        topic = self._open_topic(chat, name, icon_color, icon_custom_emoji_id, creator)
        return int(topic["message_thread_id"])

    def topic_message(
        self,
        user_id: int,
        chat_id: int,
        thread_id: int,
        text: str,
        *,
        first_name: str = "Dana",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        reply_to_bot_message_id: int | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A text a member writes in forum topic ``thread_id``: ``message_thread_id``,
        ``is_topic_message`` and, as Telegram does, ``reply_to_message`` = the topic's creation
        message (or bot message ``reply_to_bot_message_id``; a stand-in if unknown). A topic
        the fake doesn't know yet is made (named "Topic N") and an unknown chat becomes a forum."""
        user = self._remember_user(user_id, first_name, last_name, username, language_code)
        chat = self._forum_chat(chat_id)
        fields: JSON = {"text": text}
        if entities is None:
            entities = _command_entities(text)
        if entities:
            fields["entities"] = entities
        fields.update(self._member_thread_fields(chat, thread_id, user, reply_to_bot_message_id))
        return self._update("message", self._new_message(chat, user, **fields))

    def topic_media_message(
        self,
        user_id: int,
        chat_id: int,
        thread_id: int,
        kind: str,
        *,
        caption: str | None = None,
        first_name: str = "Dana",
        language_code: str | None = "ru",
        reply_to_bot_message_id: int | None = None,
    ) -> JSON:
        """A non-text message of ``kind`` (one of MEDIA_KINDS) in forum topic ``thread_id``."""
        user = self._member(user_id, first_name, None, None, language_code)
        chat = self._forum_chat(chat_id)
        fields = self._media_payload(kind, user)
        if caption is not None:
            fields["caption"] = caption
        fields.update(self._member_thread_fields(chat, thread_id, user, reply_to_bot_message_id))
        return self._update("message", self._new_message(chat, user, **fields))

    def general_message(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        first_name: str = "Dana",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
    ) -> JSON:
        """A text in the forum's General topic: no thread fields, like in Telegram."""
        user = self._remember_user(user_id, first_name, last_name, username, language_code)
        chat = self._forum_chat(chat_id)
        fields: JSON = {"text": text}
        if entities := _command_entities(text):
            fields["entities"] = entities
        return self._update("message", self._new_message(chat, user, **fields))

    def channel_post(self, chat_id: int, text: str, *, title: str = "Test channel") -> JSON:
        """A post in a channel: no ``from``, the channel is the sender_chat."""
        chat = self._chats.setdefault(chat_id, {"id": chat_id, "type": "channel", "title": title})
        message = {
            "message_id": self._new_message_id(),
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        self._messages[(chat_id, message["message_id"])] = message
        return self._update("channel_post", copy.deepcopy(message))

    def my_chat_member(
        self,
        user_id: int,
        status: str,
        *,
        chat_id: int | None = None,
        chat_type: str | None = None,
        old_status: str | None = None,
    ) -> JSON:
        """The bot's own membership changed: in the user's private chat "kicked" means they
        blocked the bot and "member" that they restarted it; with ``chat_id``, the user added
        or removed the bot in a group (``chat_type`` as in group_message)."""
        user = self._known_user(user_id, None)
        if chat_id is None:
            chat = self._private_chat(user)
            default_old = "kicked" if status == "member" else "member"
        else:
            chat = self._group_chat(chat_id, chat_type)
            default_old = "left" if status in ("member", "administrator") else "member"
        return self._update(
            "my_chat_member",
            {
                "chat": chat,
                "from": user,
                "date": int(time.time()),
                "old_chat_member": _chat_member(old_status or default_old, self.bot_user),
                "new_chat_member": _chat_member(status, self.bot_user),
            },
        )

    # --- builder helpers ------------------------------------------------------------------------
    def _new_update_id(self) -> int:
        self._update_ids += 1
        return self._update_ids

    def _new_message_id(self, taken: int | None = None) -> int:
        """A fresh id, or note that a test chose ``taken`` so fresh ids never collide with it."""
        if taken is not None:
            self._last_message_id = max(self._last_message_id, taken)
            return taken
        self._last_message_id += 1
        return self._last_message_id

    def _update(self, kind: str, payload: JSON) -> JSON:
        return {"update_id": self._new_update_id(), kind: copy.deepcopy(payload)}

    def _remember_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        return copy.deepcopy(user)

    def _known_user(self, user_id: int, language_code: str | None) -> JSON:
        user = copy.deepcopy(self._users.get(user_id)) or {
            "id": user_id,
            "is_bot": False,
            "first_name": "Aigerim",
        }
        if language_code is not None:
            user["language_code"] = language_code
        return user

    def _member(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> JSON:
        """The user as already known, else a new one with these details."""
        if user_id in self._users:
            return self._known_user(user_id, language_code)
        return self._remember_user(user_id, first_name, last_name, username, language_code)

    def _forum_chat(self, chat_id: int) -> JSON:
        chat = self._chats.get(chat_id)
        if chat is None:
            return self.forum_group(chat_id)
        if not chat.get("is_forum"):
            raise ValueError(f"chat {chat_id} is not a forum; register it with forum_group()")
        return copy.deepcopy(chat)

    def _open_topic(
        self,
        chat: JSON,
        name: str,
        icon_color: int,
        icon_custom_emoji_id: str | None,
        creator: JSON,
        thread_id: int | None = None,
    ) -> JSON:
        """Create a topic: its creation service message's id is the thread id. The ForumTopic."""
        thread_id = self._new_message_id(taken=thread_id)
        created: JSON = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        self._messages[(chat["id"], thread_id)] = {
            "message_id": thread_id,
            "from": creator,
            "chat": chat,
            "date": int(time.time()),
            "message_thread_id": thread_id,
            "forum_topic_created": created,
            "is_topic_message": True,
        }
        self._topics.setdefault(chat["id"], {})[thread_id] = {**created, "closed": False}
        return {"message_thread_id": thread_id, **created}

    def _ensure_topic(self, chat: JSON, thread_id: int, creator: JSON) -> JSON:
        """The chat, after making topic ``thread_id`` exist in it (for builders)."""
        if not chat.get("is_forum"):
            raise ValueError(f"chat {chat['id']} is not a forum; register it with forum_group()")
        if thread_id in self._topics.get(chat["id"], {}):
            return chat
        if thread_id <= 1:
            raise ValueError("thread 1 is General; use general_message() for it")
        if (chat["id"], thread_id) in self._messages:
            raise ValueError(f"message {thread_id} in chat {chat['id']} is not a topic")
        self._open_topic(chat, f"Topic {thread_id}", DEFAULT_TOPIC_COLOR, None, creator, thread_id)
        return chat

    def _in_thread(self, chat: JSON, thread_id: int) -> JSON:
        """The fields of a message in a topic: Telegram makes it a reply to the creation message
        unless it replies to something else."""
        fields: JSON = {"message_thread_id": thread_id, "is_topic_message": True}
        root = self._messages.get((chat["id"], thread_id))
        if root is not None:
            fields["reply_to_message"] = _without_reply(root)
        return fields

    def _member_thread_fields(
        self, chat: JSON, thread_id: int, user: JSON, reply_to_bot_message_id: int | None
    ) -> JSON:
        fields = self._in_thread(self._ensure_topic(chat, thread_id, user), thread_id)
        if reply_to_bot_message_id is not None:
            replied = self._messages.get((chat["id"], reply_to_bot_message_id))
            if replied is None:
                replied = {
                    "message_id": reply_to_bot_message_id,
                    "from": self.bot_user,
                    "chat": chat,
                    "date": int(time.time()),
                    "text": "…",
                    **self._in_thread(chat, thread_id),
                }
                self._messages[(chat["id"], reply_to_bot_message_id)] = replied
                self._new_message_id(taken=reply_to_bot_message_id)
            fields["reply_to_message"] = _without_reply(replied)
        return fields

    def _private_chat(self, user: JSON) -> JSON:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[user["id"]] = chat
        return copy.deepcopy(chat)

    def _group_chat(self, chat_id: int, chat_type: str | None) -> JSON:
        if chat_type is None:
            chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        chat = self._chats.get(chat_id)
        if chat is None or chat["type"] != chat_type:
            chat = {"id": chat_id, "type": chat_type, "title": f"Test {chat_type}"}
            self._chats[chat_id] = chat
        return copy.deepcopy(chat)

    def _new_message(self, chat: JSON, user: JSON, **fields: Any) -> JSON:
        message = {
            "message_id": self._new_message_id(),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            **fields,
        }
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _media_payload(self, kind: str, user: JSON) -> JSON:
        n = next(self._file_ids)
        file = {"file_id": f"{kind.upper()}-FILE-{n:06d}", "file_unique_id": f"U{kind[:3]}{n:06d}"}
        if kind == "sticker":
            return {
                "sticker": {
                    **file,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                    "file_size": 24_000,
                }
            }
        if kind == "photo":
            return {
                "photo": [
                    {**file, "width": 90, "height": 67, "file_size": 1_200},
                    {
                        "file_id": f"{file['file_id']}-M",
                        "file_unique_id": f"{file['file_unique_id']}M",
                        "width": 800,
                        "height": 600,
                        "file_size": 64_000,
                    },
                ]
            }
        if kind == "voice":
            return {"voice": {**file, "duration": 3, "mime_type": "audio/ogg", "file_size": 9_000}}
        if kind == "video":
            return {"video": {**file, "width": 1280, "height": 720, "duration": 12}}
        if kind == "video_note":
            return {"video_note": {**file, "length": 384, "duration": 5}}
        if kind == "document":
            return {
                "document": {**file, "file_name": "analysis.pdf", "mime_type": "application/pdf"}
            }
        if kind == "location":
            return {"location": {"latitude": 43.238949, "longitude": 76.889709}}  # Almaty
        if kind == "contact":
            return {
                "contact": {
                    "phone_number": "+77010000000",
                    "first_name": user["first_name"],
                    "user_id": user["id"],
                }
            }
        if kind == "animation":
            animation = {**file, "width": 320, "height": 240, "duration": 2}
            # Telegram still sends animations as a document too, for old clients.
            return {
                "animation": animation,
                "document": {**file, "file_name": "animation.mp4", "mime_type": "video/mp4"},
            }
        if kind == "audio":
            return {
                "audio": {
                    **file,
                    "duration": 180,
                    "performer": "Dimash",
                    "title": "Song",
                    "mime_type": "audio/mpeg",
                }
            }
        raise ValueError(f"unknown media kind {kind!r}; one of {', '.join(MEDIA_KINDS)}")

    # --- HTTP -----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        raw_method = request.match_info["method"]
        entry = self._methods.get(raw_method.lower())
        parse_error: ApiError | None = None
        try:
            params = await self._read_params(request)
        except ValueError as exc:  # a malformed JSON body; recorded all the same
            params, parse_error = {}, ApiError(400, f"Bad Request: can't parse JSON body: {exc}")
        call = Call(entry[0] if entry else raw_method, params, arrived)
        self._record(call)
        try:
            if parse_error is not None:
                raise parse_error
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            self._inject_failure(call)
            if entry is None:
                raise ApiError(404, METHOD_NOT_FOUND)
            if call.method in CHAT_BOUND and str(call.params.get("chat_id")) in self._blocked:
                raise ApiError(403, BLOCKED)
            payload: JSON = {"ok": True, "result": await entry[1](call.params)}
            status = 200
        except ApiError as error:
            payload, status = error.payload(), error.code
        except (ValueError, TypeError, KeyError) as exc:
            # A bug in the fake or a malformed parameter: say so instead of an HTML 500 page.
            detail = f"fake_telegram {type(exc).__name__}: {exc}"
            payload = ApiError(500, f"Internal Server Error: {detail}").payload()
            status = 500
        call.status, call.response = status, payload
        self._notify_calls()
        return web.json_response(payload, status=status, dumps=_dumps)

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = {key: _decode_value(key, value) for key, value in request.query.items()}
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(
                    key, value.filename, value.content_type, value.file.read()
                )
            else:
                text = value.decode() if isinstance(value, bytes | bytearray) else value
                params[key] = _decode_value(key, text)
        return params

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._notify_calls()

    # Waiters hold the event they started waiting on; setting it wakes them all, and a fresh one
    # is armed for the next wait (an edge-triggered broadcast, without Condition's locking).
    def _notify_calls(self) -> None:
        self._calls_changed.set()
        self._calls_changed = asyncio.Event()

    def _wake_pollers(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    def _inject_failure(self, call: Call) -> None:
        for failure in self._failures:
            if failure.method != call.method or failure.remaining <= 0:
                continue
            if failure.chat_id is not None and not _same_chat(
                call.params.get("chat_id"), failure.chat_id
            ):
                continue
            failure.remaining -= 1
            if failure.remaining == 0:
                self._failures.remove(failure)
            parameters = {"retry_after": failure.retry_after} if failure.retry_after else None
            raise ApiError(failure.error_code, failure.description, parameters)

    # --- state helpers --------------------------------------------------------------------------
    def _chat(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, int):
            if chat_id in self._chats:
                return copy.deepcopy(self._chats[chat_id])
            if chat_id > 0:
                return {"id": chat_id, "type": "private", "first_name": "User"}
            return self._group_chat(chat_id, None)
        username = str(chat_id).removeprefix("@")
        for chat in self._chats.values():
            if chat.get("username") == username:
                return copy.deepcopy(chat)
        raise ApiError(400, "Bad Request: chat not found")

    def _stored_message(self, params: JSON, *, action: str) -> JSON:
        chat = self._chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = self._messages.get((chat["id"], message_id))
        if message is None:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        return message

    def _text(self, params: JSON) -> tuple[str, list[JSON]]:
        text = params.get("text")
        text = "" if text is None else str(text)
        mode = str(params.get("parse_mode") or "").lower()
        if mode == "html":
            plain, entities = parse_html(text)
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is echoed unparsed: the bot under test only uses HTML.
            plain, entities = text, list(params.get("entities") or [])
        else:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {params['parse_mode']}")
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return plain, entities

    def _inline_markup(self, params: JSON) -> JSON | None:
        """The inline keyboard to echo in the Message, validated as Telegram does; reply
        keyboards, ForceReply and removals are accepted but never echoed."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Arrays')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                if not any(key in button for key in BUTTON_ACTIONS):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return {"inline_keyboard": rows}

    @staticmethod
    def _commands_key(scope: JSON | None, language_code: str | None) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    # --- methods --------------------------------------------------------------------------------
    async def _true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        # A newer getUpdates supersedes one still waiting, which Telegram answers with 409.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"] or [])
        self._confirm(params.get("offset"))
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            if self.webhook_url:
                raise ApiError(409, WEBHOOK_CONFLICT)
            batch = self._deliverable(limit)
            remaining = deadline - loop.time()
            if batch or self._closed or remaining <= 0:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._updates_changed.wait(), remaining)

    def _confirm(self, offset: object) -> None:
        """Updates below ``offset`` are confirmed and forgotten; a negative offset keeps only the
        last -offset ones."""
        if offset is None or offset == "":
            return
        offset = int(str(offset))
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def _deliverable(self, limit: int) -> list[JSON]:
        allowed = set(self._allowed_updates or ()) or DEFAULT_UPDATE_TYPES
        # Updates of types the bot did not ask for are never delivered (Telegram never makes them).
        self.dropped_updates += [u for u in self._pending if _update_type(u) not in allowed]
        self._pending = [u for u in self._pending if _update_type(u) in allowed]
        return copy.deepcopy(self._pending[:limit])

    async def _send_message(self, params: JSON) -> JSON:
        chat = self._chat(params)
        text, entities = self._text(params)
        markup = self._inline_markup(params)
        message: JSON = {
            "message_id": self._new_message_id(),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if markup:
            message["reply_markup"] = markup
        thread_id = self._thread_of(chat, params)
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        if reply_to is not None:
            replied = self._messages.get((chat["id"], reply_to))
            if replied is not None:
                message["reply_to_message"] = _without_reply(replied)
                if thread_id is None and replied.get("is_topic_message"):
                    # A reply goes into the replied message's topic without message_thread_id.
                    thread_id = self._thread_of(
                        chat, {"message_thread_id": replied["message_thread_id"]}
                    )
            elif not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
        if thread_id is not None:
            for key, value in self._in_thread(chat, thread_id).items():
                message.setdefault(key, value)
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _edit(self, message: JSON, changes: JSON) -> JSON:
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        edited = {k: v for k, v in message.items() if k not in ("entities", "reply_markup")}
        edited.update({k: v for k, v in changes.items() if v})
        if all(edited.get(k) == message.get(k) for k in ("text", "entities", "reply_markup")):
            raise ApiError(400, NOT_MODIFIED)
        edited["edit_date"] = int(time.time())
        self._messages[(message["chat"]["id"], message["message_id"])] = edited
        return copy.deepcopy(edited)

    async def _edit_message_text(self, params: JSON) -> JSON | bool:
        text, entities = self._text(params)
        markup = self._inline_markup(params)
        if params.get("inline_message_id"):
            return True
        message = self._stored_message(params, action="edit")
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        # Like Telegram: an edit without reply_markup removes the keyboard.
        return self._edit(message, {"text": text, "entities": entities, "reply_markup": markup})

    async def _edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        markup = self._inline_markup(params)
        if params.get("inline_message_id"):
            return True
        message = self._stored_message(params, action="edit")
        return self._edit(
            message,
            {
                "text": message.get("text"),
                "entities": message.get("entities"),
                "reply_markup": markup,
            },
        )

    async def _delete_messages(self, params: JSON) -> bool:
        """Up to 100 ids at once; ones that cannot be found are skipped, as Telegram does."""
        chat = self._chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: message identifiers are not specified")
        for message_id in ids:
            self._messages.pop((chat["id"], message_id), None)
            self.deleted.add((chat["id"], message_id))
        return True

    async def _delete_message(self, params: JSON) -> bool:
        message = self._stored_message(params, action="delete")
        del self._messages[(message["chat"]["id"], message["message_id"])]
        return True

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise ApiError(400, STALE_QUERY)
        self._open_queries.discard(query_id)  # a query is answered once
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        self._thread_of(self._chat(params), params, closed_ok=True)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands must be an Array")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    async def _set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if url and not re.match(r"https?://", url):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = url
        self.webhook_secret = str(secret) if url and secret is not None else None
        self.webhook_allowed_updates = params.get("allowed_updates") if url else None
        self._webhook_extra = {
            k: params[k] for k in ("max_connections", "ip_address") if k in params and url
        }
        self._wake_pollers()  # a poll in flight now conflicts with the webhook
        return True

    async def _delete_webhook(self, params: JSON) -> bool:
        return await self._set_webhook(
            {"url": "", "drop_pending_updates": params.get("drop_pending_updates")}
        )

    async def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info.update(self._webhook_extra)
            if self.webhook_allowed_updates:
                info["allowed_updates"] = self.webhook_allowed_updates
        return info

    # --- forum topics ---------------------------------------------------------------------------
    def _thread_of(self, chat: JSON, params: JSON, *, closed_ok: bool = False) -> int | None:
        """The topic a send goes to (None: General, or not a forum), validated like Telegram."""
        thread_id = params.get("message_thread_id")
        if thread_id is None or thread_id == "":
            return None
        topic = self._topics.get(chat["id"], {}).get(thread_id) if chat.get("is_forum") else None
        if topic is None:
            raise ApiError(400, THREAD_NOT_FOUND)
        if topic["closed"] and not closed_ok:
            raise ApiError(400, TOPIC_CLOSED)
        return int(thread_id)

    def _forum(self, params: JSON) -> JSON:
        chat = self._chat(params)
        if not chat.get("is_forum"):
            raise ApiError(400, NOT_A_FORUM)
        return chat

    def _topic(self, params: JSON) -> tuple[JSON, int, JSON]:
        chat = self._forum(params)
        thread_id = params.get("message_thread_id")
        if not isinstance(thread_id, int) or isinstance(thread_id, bool) or thread_id <= 0:
            raise ApiError(400, INVALID_THREAD_ID)
        topic = self._topics.get(chat["id"], {}).get(thread_id)
        if topic is None:
            raise ApiError(400, TOPIC_ID_INVALID)
        return chat, thread_id, topic

    def _topic_service(self, chat: JSON, thread_id: int, **fields: Any) -> None:
        """The service message an edit/close/reopen leaves in the topic."""
        message = {
            "message_id": self._new_message_id(),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            **self._in_thread(chat, thread_id),
            **fields,
        }
        self._messages[(chat["id"], message["message_id"])] = message

    async def _create_forum_topic(self, params: JSON) -> JSON:
        chat = self._forum(params)
        name = _topic_name(params.get("name"))
        if not name:
            raise ApiError(400, TOPIC_NAME_EMPTY)
        color = params.get("icon_color", DEFAULT_TOPIC_COLOR)
        if isinstance(color, bool) or color not in TOPIC_ICON_COLORS:
            raise ApiError(400, INVALID_ICON_COLOR)
        emoji = str(params.get("icon_custom_emoji_id") or "") or None
        return self._open_topic(chat, name, color, emoji, self.bot_user)

    async def _edit_forum_topic(self, params: JSON) -> bool:
        chat, thread_id, topic = self._topic(params)
        asked = False
        changes: JSON = {}
        if params.get("name"):  # absent or "": the name stays
            asked = True
            name = _topic_name(params["name"])
            if not name:
                raise ApiError(400, TOPIC_NAME_EMPTY)
            if name != topic["name"]:
                changes["name"] = name
        if "icon_custom_emoji_id" in params:  # "" removes the custom icon
            asked = True
            emoji = str(params["icon_custom_emoji_id"] or "")
            if emoji != topic.get("icon_custom_emoji_id", ""):
                changes["icon_custom_emoji_id"] = emoji
        if not asked:
            return True
        if not changes:
            raise ApiError(400, TOPIC_NOT_MODIFIED)
        topic.update(changes)
        if topic.get("icon_custom_emoji_id") == "":
            del topic["icon_custom_emoji_id"]
        self._topic_service(chat, thread_id, forum_topic_edited=changes)
        return True

    def _set_closed(self, params: JSON, closed: bool) -> bool:
        chat, thread_id, topic = self._topic(params)
        if topic["closed"] == closed:
            raise ApiError(400, TOPIC_NOT_MODIFIED)
        topic["closed"] = closed
        event = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._topic_service(chat, thread_id, **{event: {}})
        return True

    async def _close_forum_topic(self, params: JSON) -> bool:
        return self._set_closed(params, True)

    async def _reopen_forum_topic(self, params: JSON) -> bool:
        return self._set_closed(params, False)

    async def _delete_forum_topic(self, params: JSON) -> bool:
        """The topic goes, with all its messages."""
        chat, thread_id, _ = self._topic(params)
        del self._topics[chat["id"]][thread_id]
        for key, message in list(self._messages.items()):
            if (
                key[0] == chat["id"]
                and message.get("is_topic_message")
                and message.get("message_thread_id") == thread_id
            ):
                del self._messages[key]
        return True


def _topic_name(raw: object) -> str:
    """A topic name as tdlib cleans it: trimmed, cut to 128 characters."""
    return ("" if raw is None else str(raw)).strip()[:TOPIC_NAME_LIMIT]


def _without_reply(message: JSON) -> JSON:
    """A message as nested in reply_to_message: Telegram never nests replies further."""
    return copy.deepcopy({k: v for k, v in message.items() if k != "reply_to_message"})


def _command_entities(text: str) -> list[JSON]:
    match = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group())}]


def _chat_member(status: str, user: JSON) -> JSON:
    """A ChatMember of ``status`` with every field PTB's de_json requires for it."""
    member: JSON = {"user": user, "status": status}
    if status == "kicked":
        member["until_date"] = 0  # forever
    elif status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=False,
            can_manage_video_chats=False,
            can_restrict_members=False,
            can_promote_members=False,
            can_change_info=False,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
        )
    elif status == "restricted":
        member.update(
            is_member=True,
            until_date=0,
            can_send_messages=False,
            can_send_audios=False,
            can_send_documents=False,
            can_send_photos=False,
            can_send_videos=False,
            can_send_video_notes=False,
            can_send_voice_notes=False,
            can_send_polls=False,
            can_send_other_messages=False,
            can_add_web_page_previews=False,
            can_change_info=False,
            can_invite_users=False,
            can_pin_messages=False,
            can_manage_topics=False,
            can_edit_tag=False,
        )
    elif status not in ("member", "left"):
        raise ValueError(f"unknown member status {status!r}; one of {', '.join(MEMBER_STATUSES)}")
    return member


__all__ = [
    "BLOCKED",
    "DEFAULT_TOPIC_COLOR",
    "MEDIA_KINDS",
    "NOT_A_FORUM",
    "THREAD_NOT_FOUND",
    "TOPIC_CLOSED",
    "TOPIC_ICON_COLORS",
    "TOPIC_ID_INVALID",
    "TOPIC_NAME_EMPTY",
    "TOPIC_NOT_MODIFIED",
    "ApiError",
    "Call",
    "FakeBotApi",
    "UploadedFile",
    "parse_html",
]
