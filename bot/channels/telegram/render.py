"""Core replies as Telegram messages: HTML-escaped text, inline keyboards, 4096-character parts."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.dialogue.messages import Button, Reply

TELEGRAM_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for callback_data
# Feedback and short buttons share a row; long labels get a row of their own.
SHORT_LABEL = 16


@dataclass(frozen=True)
class OutgoingMessage:
    html: str
    keyboard: InlineKeyboardMarkup | None = None


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Parts of at most ``limit`` characters, cut at paragraph, then line, then word breaks."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), -1)
        if cut < limit // 2:
            cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        if len(button.action.encode()) > CALLBACK_DATA_LIMIT:
            continue  # never send what Telegram would reject; the core keeps actions short
        item = InlineKeyboardButton(button.label, callback_data=button.action)
        short = len(button.label) <= SHORT_LABEL
        if (
            rows
            and short
            and len(rows[-1]) < 3
            and all(len(b.text) <= SHORT_LABEL for b in rows[-1])
        ):
            rows[-1].append(item)
        else:
            rows.append([item])
    return InlineKeyboardMarkup(rows) if rows else None


def render(reply: Reply) -> list[OutgoingMessage]:
    """Escape everything (answers and echoes alike are plain text) and split; the buttons go
    under the last part, where the reader finishes."""
    # Escaping can lengthen the text, so split the escaped form.
    parts = split_text(html.escape(reply.text, quote=False))
    if not parts:
        parts = ["…"]
    markup = keyboard(reply.buttons)
    return [
        OutgoingMessage(part, markup if i == len(parts) - 1 else None)
        for i, part in enumerate(parts)
    ]
