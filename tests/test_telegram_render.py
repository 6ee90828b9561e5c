"""Rendering core replies for Telegram: escaping, 4096-character parts, keyboards."""

from __future__ import annotations

from bot.channels.telegram.render import TELEGRAM_LIMIT, keyboard, render, split_text
from bot.dialogue.messages import Button, Reply


def test_text_is_escaped_for_html():
    (message,) = render(Reply("<b>1 < 2 & 3 > 2</b>"))
    assert message.html == "&lt;b&gt;1 &lt; 2 &amp; 3 &gt; 2&lt;/b&gt;"


def test_long_text_splits_at_paragraphs_and_keeps_everything():
    paragraphs = [f"Абзац {i}: " + "слово " * 120 for i in range(20)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = split_text(text)
    assert len(parts) > 1 and all(len(p) <= TELEGRAM_LIMIT for p in parts)
    assert all(p.startswith("Абзац") for p in parts)  # cut between paragraphs
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_a_text_without_breaks_is_still_cut_to_the_limit():
    parts = split_text("я" * 10_000)
    assert [len(p) for p in parts] == [4096, 4096, 1808]


def test_buttons_go_under_the_last_part_only():
    messages = render(Reply("слово " * 2000, (Button("Ещё", "more:x"),)))
    assert len(messages) > 1
    assert [m.keyboard is not None for m in messages] == [False] * (len(messages) - 1) + [True]


def test_short_buttons_share_rows_and_oversized_callback_data_is_dropped():
    markup = keyboard(
        (
            Button("👍", "fb:a:1:1"),
            Button("👎", "fb:a:1:0"),
            Button("A rather long label for a row", "human"),
            Button("bad", "x" * 65),
        )
    )
    rows = [[b.callback_data for b in row] for row in markup.inline_keyboard]
    assert rows == [["fb:a:1:1", "fb:a:1:0"], ["human"]]


def test_an_empty_reply_still_sends_something():
    assert render(Reply(""))[0].html
