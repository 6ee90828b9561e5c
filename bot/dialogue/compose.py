"""Turning a decision into the messages a user reads. Texts come from responses/ and locales/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.dialogue.messages import Button, Reply
from bot.i18n import Translator
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.topics import Route
from bot.languages import LANGUAGE_NAMES, LANGUAGES, Language

if TYPE_CHECKING:
    from bot.escalation.desk import Receipt

MAX_RELATED_BUTTONS = 2


def role_name(tr: Translator, role: str) -> str:
    names = {
        "doctor": tr.gettext("doctor"),
        "psychologist": tr.gettext("psychologist"),
        "lawyer": tr.gettext("lawyer"),
    }
    return names.get(role, tr.gettext("consultant"))


@dataclass(frozen=True)
class Composer:
    knowledge: KnowledgeBase

    def _bullets(self, heading: str, lines: list[str]) -> str:
        return "\n".join([heading, *(f"• {line}" for line in lines)])

    def helplines(self, tr: Translator, *, crisis: bool) -> str:
        lines = (
            self.knowledge.helplines.crisis_lines
            if crisis
            else self.knowledge.helplines.danger_now_lines
        )(tr.language)
        return self._bullets(tr.gettext("If you are in danger right now, call:"), lines)

    def with_danger_hint(self, reply: Reply, tr: Translator, crisis_topic: str) -> Reply:
        """The "in danger right now" numbers on top of the answer to a message that leans
        towards ``crisis_topic`` without being a crisis (see ``Thresholds.danger_hint``), and a
        first button that makes it one: the child who is in danger says so with one tap."""
        lines = self.knowledge.helplines.danger_now_lines(tr.language)
        if all(line in reply.text for line in lines):  # a hand-over already lists them
            return reply
        hint = self._bullets(
            tr.gettext(
                "If someone is hurting you or a child, or you are thinking of hurting yourself, "
                "you don't have to face it alone:"
            ),
            lines,
        )
        unsafe = Button(tr.gettext("I'm not safe, I need help now"), f"unsafe:{crisis_topic}")
        return Reply("\n\n".join([hint, reply.text]), (unsafe, *reply.buttons))

    def topic_answer(
        self, topic_id: str, route: Route, tr: Translator, audience: str | None
    ) -> Reply | None:
        """The curated answer shaped by its route: crisis numbers first, urgent danger first."""
        content = self.knowledge.content(topic_id)
        topic = self.knowledge.topic(topic_id)
        variant = self.knowledge.answer(
            topic_id,
            tr.language,
            audience or (topic.audience if topic and topic.audience != "any" else None),
        )
        if content is None or variant is None:
            return None
        parts: list[str] = []
        danger = (
            self._bullets(tr.gettext("Get medical help now if:"), variant.danger_signs)
            if variant.danger_signs
            else None
        )
        if route is Route.CRISIS:
            parts.append(self.helplines(tr, crisis=True))
        if danger and route is Route.URGENT:
            parts.append(danger)
        parts.append(variant.text.strip())
        if danger and route is not Route.URGENT:
            parts.append(danger)
        if content.sources:
            names = ", ".join(dict.fromkeys(source.name for source in content.sources))
            parts.append(tr.gettext("Sources: %(sources)s") % {"sources": names})

        buttons: list[Button] = []
        if variant.more:
            buttons.append(Button(tr.gettext("More"), f"more:{topic_id}"))
        if route in (Route.ANSWER, Route.URGENT, Route.CRISIS):
            buttons.append(Button(tr.gettext("👍 Helpful"), f"fb:{topic_id}:{content.revision}:1"))
            buttons.append(
                Button(tr.gettext("👎 Not helpful"), f"fb:{topic_id}:{content.revision}:0")
            )
            buttons.append(Button(tr.gettext("Talk to a consultant"), "human"))
        if topic_id in self.knowledge.sensitive or route in (Route.CRISIS, Route.URGENT):
            buttons.append(Button(tr.gettext("🧹 Clear this chat"), "clear:now"))
        for related in content.related:
            if len(buttons) >= 4 + MAX_RELATED_BUTTONS or related not in self.knowledge.contents:
                continue
            buttons.append(Button(self.knowledge.title(related, tr.language), f"topic:{related}"))
        return Reply("\n\n".join(parts), tuple(buttons))

    def more(self, topic_id: str, tr: Translator, audience: str | None) -> Reply | None:
        content = self.knowledge.content(topic_id)
        variant = self.knowledge.answer(topic_id, tr.language, audience)
        if content is None or variant is None or not variant.more:
            return None
        lines = [variant.more.strip()]
        if content.sources:
            lines.append(
                "\n".join(
                    f"• {s.name}: {s.title} {s.url}".replace("  ", " ") for s in content.sources
                )
            )
        return Reply("\n\n".join(lines), (Button(tr.gettext("Talk to a consultant"), "human"),))

    def clarify(self, candidates: tuple[str, ...], tr: Translator) -> Reply:
        if not candidates:
            return Reply(
                tr.gettext(
                    "I'm not sure I understood. Could you say it in other words? "
                    "You can also ask a consultant."
                ),
                (Button(tr.gettext("Talk to a consultant"), "human"),),
            )
        buttons = tuple(
            Button(self.knowledge.title(t, tr.language), f"topic:{t}") for t in candidates
        )
        return Reply(
            tr.gettext("I'm not sure I understood. Is your question about one of these?"),
            (*buttons, Button(tr.gettext("Something else"), "none")),
        )

    def handed_over(self, tr: Translator, *, available: bool) -> Reply:
        if available:
            text = tr.gettext(
                "I've passed your question to a consultant (a doctor or psychologist). They will "
                "not see your name or account. An answer can take a while."
            )
        else:
            text = tr.gettext(
                "Consultants are not connected yet, so I can't pass your question on right now. "
                "You can ask in person at a youth health centre (free and confidential) or at "
                "your polyclinic."
            )
        return Reply("\n\n".join([text, self.helplines(tr, crisis=False)]))

    def nlu_down(self, tr: Translator) -> Reply:
        text = tr.gettext(
            "Sorry, I can't read messages properly right now because of a technical problem. "
            "Please try again in a few minutes, or ask a consultant."
        )
        return Reply(
            "\n\n".join([text, self.helplines(tr, crisis=False)]),
            (Button(tr.gettext("Talk to a consultant"), "human"),),
        )

    def choose_language(self, tr: Translator, preselected: Language | None) -> Reply:
        """The current or likely language first, ticked."""
        order = sorted(LANGUAGES, key=lambda lang: lang != preselected)
        return Reply(
            tr.gettext("Which language shall we speak?"),
            tuple(
                Button(("✓ " if lang == preselected else "") + LANGUAGE_NAMES[lang], f"lang:{lang}")
                for lang in order
            ),
        )

    def choose_audience(self, tr: Translator) -> Reply:
        return Reply(
            tr.gettext("Who are you? This helps me answer the right way."),
            (
                Button(tr.gettext("I'm a teenager"), "aud:teen"),
                Button(tr.gettext("I'm a parent or expecting a baby"), "aud:parent"),
            ),
        )

    def welcome(self, tr: Translator) -> Reply:
        return Reply(
            tr.gettext(
                "Hello! I'm Syrlas, an anonymous helper for questions about health, the body, "
                "feelings and safety, for teenagers and for mothers. I'm not a doctor: I answer "
                "from checked sources (WHO, UNICEF, the Ministry of Health of Kazakhstan) and can "
                "pass your question to a real doctor or psychologist. I don't ask for your name "
                "and don't keep your phone number or account: /privacy says what is kept."
            )
            # the numbers come with the first words too: the classifier can miss a crisis
            + "\n\n"
            + self.helplines(tr, crisis=False)
        )

    def ready(self, tr: Translator) -> Reply:
        return Reply(
            tr.gettext(
                "Thank you! Ask me anything in your own words, for example: "
                "“my period hurts, what can I do?”"
            )
        )

    def help(self, tr: Translator) -> Reply:
        return Reply(
            tr.gettext(
                "Write your question in your own words, in Kazakh, Russian or English.\n"
                "/language: change the language\n"
                "/audience: say whether you are a teenager or a parent\n"
                "/consultant: ask a person (a doctor or psychologist)\n"
                "/report: report violence against a child, anonymously\n"
                "/privacy: what Syrlas keeps and who sees it\n"
                "/clear: delete our conversation from this chat (for a shared phone)\n"
                "/forget: erase everything Syrlas keeps about you\n"
                "/cancel: start over"
            )
            + "\n\n"
            + self.helplines(tr, crisis=False)
        )

    def feedback_thanks(self, tr: Translator) -> Reply:
        return Reply(tr.gettext("Thank you, this helps us improve the answers."))

    def empty(self, tr: Translator) -> Reply:
        return Reply(tr.gettext("Please write your question in words."))

    def unsupported(self, tr: Translator) -> Reply:
        return Reply(
            tr.gettext(
                "I can only read text for now. Please write your question in words, "
                "in Kazakh, Russian or English."
            )
        )

    def cancelled(self, tr: Translator) -> Reply:
        return Reply(tr.gettext("Okay, let's start over. Ask me anything."))

    def forget_confirm(self, tr: Translator) -> Reply:
        return Reply(
            tr.gettext(
                "Erase everything Syrlas keeps about you: your settings, your recent messages "
                "and your feedback? This cannot be undone."
            ),
            (
                Button(tr.gettext("Yes, erase everything"), "forget:yes"),
                Button(tr.gettext("No, keep it"), "forget:no"),
            ),
        )

    def forgotten(self, tr: Translator) -> Reply:
        return Reply(
            tr.gettext(
                "Done: everything Syrlas kept about you is erased. You can write again at any "
                "time, as a new user. To remove the chat from this phone too, delete it in "
                "Telegram."
            )
        )

    def not_forgotten(self, tr: Translator) -> Reply:
        return Reply(tr.gettext("Nothing was erased."))

    def forget_failed(self, tr: Translator) -> Reply:
        return Reply(
            tr.gettext(
                "Sorry, I could not erase your data just now because of a technical problem. "
                "Please try /forget again in a few minutes."
            )
        )

    def private_only(self, tr: Translator, bot_username: str) -> Reply:
        return Reply(
            tr.gettext(
                "I only talk in private chats, so nobody else can see the questions. "
                "Write to me directly: @%(bot)s"
            )
            % {"bot": bot_username}
        )

    def crisis_in_report(self, tr: Translator) -> Reply:
        return Reply(
            "\n\n".join(
                [
                    self.helplines(tr, crisis=True),
                    tr.gettext("What you wrote worries me. Please call one of these numbers now."),
                ]
            )
        )

    def discreet_menu(self, tr: Translator, minutes: int | None) -> Reply:
        state = (
            tr.ngettext(
                "Auto-clear is on: messages go after %(n)s minute.",
                "Auto-clear is on: messages go after %(n)s minutes.",
                minutes,
            )
            if minutes
            else tr.gettext("Auto-clear is off.")
        )
        return Reply(
            "\n\n".join(
                [
                    tr.gettext(
                        "For a phone someone else may see: I can delete our conversation from "
                        "this chat, your messages and mine (Telegram allows it for messages "
                        "from the last 48 hours), now or automatically."
                    ),
                    state,
                ]
            ),
            (
                Button(tr.gettext("🧹 Clear now"), "clear:now"),
                Button(tr.gettext("Auto-clear after 15 min"), "clear:auto:15"),
                Button(tr.gettext("Auto-clear after 1 hour"), "clear:auto:60"),
                Button(tr.gettext("Auto-clear off"), "clear:auto:off"),
            ),
        )

    def cleared(self, tr: Translator) -> Reply:
        return Reply(tr.gettext("Done."))

    def auto_clear_set(self, tr: Translator, minutes: int | None) -> Reply:
        if minutes is None:
            return Reply(tr.gettext("Auto-clear is off."))
        return Reply(
            tr.ngettext(
                "Auto-clear is on: our messages will be deleted %(n)s minute after they are sent.",
                "Auto-clear is on: our messages will be deleted %(n)s minutes after they are sent.",
                minutes,
            )
        )

    def slow_down(self, tr: Translator) -> Reply:
        return Reply(
            "\n\n".join(
                [
                    tr.gettext(
                        "You are writing very fast, so I'll pause for a minute. Then send your "
                        "question again, in one message if you can."
                    ),
                    self.helplines(tr, crisis=False),
                ]
            )
        )

    def truncated(self, tr: Translator, limit: int) -> Reply:
        return Reply(
            tr.ngettext(
                "Your message is very long, so I kept only its first %(n)s character.",
                "Your message is very long, so I kept only its first %(n)s characters.",
                limit,
            )
        )

    # --- tickets (the user's side) ---------------------------------------------------------
    def waiting(self, tr: Translator, receipt: Receipt) -> Reply:
        """Passed on: the number, roughly when, and what to do if it cannot wait."""
        if receipt.existing:
            first = tr.gettext(
                "I've added this to your question #%(number)s for the consultant."
            ) % {"number": receipt.number}
        else:
            first = tr.gettext(
                "I've passed your question to a consultant (a doctor, psychologist or lawyer), "
                "number #%(number)s. They will not see your name or account, and they will "
                "answer here, in this chat."
            ) % {"number": receipt.number}
        if receipt.in_hours:
            when = tr.ngettext(
                "An answer usually comes within %(n)s hour.",
                "An answer usually comes within %(n)s hours.",
                receipt.answer_within_hours,
            )
        elif receipt.back_at is not None:
            when = tr.gettext(
                "Consultants are not working right now; they are back on %(time)s "
                "(Astana time) and will see your question then."
            ) % {"time": tr.datetime(receipt.back_at)}
        else:
            when = tr.gettext("Consultants are not working right now.")
        if receipt.priority == "crisis" and not receipt.in_hours:
            when += " " + tr.gettext("Your message is marked urgent and was sent at once.")
        return Reply(
            "\n\n".join([first, when, self.helplines(tr, crisis=receipt.priority == "crisis")]),
            (Button(tr.gettext("Withdraw my question"), "withdraw:ask"),),
        )

    def ticket_open_failed(self, tr: Translator) -> Reply:
        return Reply(
            "\n\n".join(
                [
                    tr.gettext(
                        "Sorry, I could not pass your question on because of a technical "
                        "problem. Please try /consultant again in a few minutes."
                    ),
                    self.helplines(tr, crisis=True),
                ]
            )
        )

    def ticket_write_failed(self, tr: Translator) -> Reply:
        return Reply(
            "\n\n".join(
                [
                    tr.gettext(
                        "Sorry, a technical problem: your last message did not reach the "
                        "consultant. Please send it again in a minute."
                    ),
                    self.helplines(tr, crisis=False),
                ]
            )
        )

    def ticket_already_open(self, tr: Translator, number: str) -> Reply:
        return Reply(
            tr.gettext(
                "Your question #%(number)s is already with the consultants. Just write here: "
                "everything you send goes to them."
            )
            % {"number": number},
            (Button(tr.gettext("Withdraw my question"), "withdraw:ask"),),
        )

    def added_to_ticket(self, tr: Translator, number: str) -> Reply:
        return Reply(
            tr.gettext("Added to your question #%(number)s. A consultant will see it.")
            % {"number": number}
        )

    def crisis_during_ticket(self, tr: Translator) -> Reply:
        return Reply(
            "\n\n".join(
                [
                    self.helplines(tr, crisis=True),
                    tr.gettext(
                        "You are not alone. I've told the consultant that this is urgent; "
                        "they will see your message first."
                    ),
                ]
            )
        )

    def withdraw_confirm(self, tr: Translator, number: str) -> Reply:
        return Reply(
            tr.gettext("Withdraw your question #%(number)s? The consultant will not answer it.")
            % {"number": number},
            (
                Button(tr.gettext("Yes, withdraw it"), "withdraw:yes"),
                Button(tr.gettext("No, keep waiting"), "withdraw:no"),
            ),
        )

    def withdrawn(self, tr: Translator, number: str) -> Reply:
        return Reply(
            tr.gettext("Your question #%(number)s is withdrawn. You can ask me anything again.")
            % {"number": number}
        )

    def not_withdrawn(self, tr: Translator) -> Reply:
        return Reply(tr.gettext("Okay, your question stays with the consultants."))

    def rated(self, tr: Translator) -> Reply:
        return Reply(tr.gettext("Thank you for the rating!"))

    def rated_already(self, tr: Translator) -> Reply:
        return Reply(tr.gettext("This conversation has already been rated. Thank you!"))

    def cannot_reopen(self, tr: Translator) -> Reply:
        return Reply(
            tr.gettext(
                "This conversation can no longer be continued. Write your question again, or "
                "use /consultant to ask a person."
            )
        )

    # --- what a consultant's actions mean for the user ------------------------------------
    def consultant_took(self, tr: Translator, role: str) -> Reply:
        return Reply(
            tr.gettext("A %(role)s is reading your question now and will answer here.")
            % {"role": role_name(tr, role)}
        )

    def consultant_says(self, tr: Translator, role: str, text: str) -> Reply:
        label = tr.gettext("Consultant (%(role)s)") % {"role": role_name(tr, role)}
        return Reply(f"{label}: {text}")

    def ticket_closed(self, tr: Translator, number: str) -> Reply:
        return Reply(
            "\n\n".join(
                [
                    tr.gettext(
                        "The consultant has closed the conversation #%(number)s. I'm here again "
                        "for your questions. How much did the consultant help? (1 = not at all, "
                        "5 = a lot)"
                    )
                    % {"number": number},
                ]
            ),
            (
                *(Button(str(stars), f"rate:{number}:{stars}") for stars in range(1, 6)),
                Button(tr.gettext("I still need help"), f"reopen:{number}"),
            ),
        )

    def ticket_returned(self, tr: Translator, number: str) -> Reply:
        return Reply(
            tr.gettext(
                "Your question #%(number)s is back in the queue: another consultant will answer it."
            )
            % {"number": number}
        )
