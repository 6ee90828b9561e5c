"""The crisis lexicon: phrases that make a message a crisis whatever the classifier says.

It runs on every message before the NLU (and works while the NLU is down), over the whole
message as kept (4,000 characters), not only the part the classifier reads. Messages are matched
in their normalised form, the same one the classifier sees, and also as if typed in Kazakh or
Russian Latin letters, so a mis-detected script never hides a crisis.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.languages import Language
from bot.nlu.normalize import normalize_for_nlu
from bot.nlu.text import MESSAGE_MAX_CHARS

MAX_GAP = 2  # other words allowed between two words of a phrase
# A negation among the words a phrase skips over turns it round: "меня не бьют", "dad joined,
# nobody hit me". Only skipped words count (a phrase may contain "не" itself: "не хочу жить"),
# and not when the next word makes it "не раз", "не только", "not only", "not just".
# Kazakh negates inside the verb (ұрмайды), and its "не" means "what" ("сексторшн деген не,
# маған да болып жатыр"), so Kazakh phrases skip no negation.
NEGATING_LANGUAGES = frozenset({Language.RU, Language.EN})
# Both sets are written as messages look after normalisation (folding drops ь: "толко").
NEGATIONS = frozenset(
    {"не", "ни", "нет", "никто", "никогда", "not", "never", "nobody", "no", "t"}
    | {"dont", "didnt", "doesnt", "isnt", "wasnt", "arent", "werent", "hasnt", "havent"}
)
NOT_NEGATING = frozenset({"раз", "толко", "просто", "лиш", "once", "only", "just"})
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"\{\d+\+\}")


@dataclass(frozen=True)
class CrisisMatch:
    topic: str
    language: Language  # the language of the phrase that matched: a strong hint for the reply


@dataclass(frozen=True)
class _Phrase:
    topic: str
    language: Language
    words: tuple[str, ...]  # a trailing "*" marks a stem
    # "= устала всё": the phrase must be the whole message. A terse farewell ("устала. всё.")
    # is a crisis on its own, but the same words inside a sentence ("устала всё время") are not.
    whole: bool = False

    def _matches_word(self, pattern: str, word: str) -> bool:
        if pattern.startswith("{"):  # "{10+}": a number of at least 10 ("took 20 pills")
            return word.isdigit() and int(word) >= int(pattern[1:-2])
        return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern

    def found_in(self, words: list[str], starts: Iterable[int] | None = None) -> bool:
        """Whether the phrase is in the words; ``starts``, when given, are the only positions
        where its first word can be (the index knows them: a long message is scanned once)."""
        if self.whole:
            return len(words) == len(self.words) and all(
                self._matches_word(p, w) for p, w in zip(self.words, words, strict=True)
            )
        first = self.words[0]
        if starts is None:
            starts = (i for i, word in enumerate(words) if self._matches_word(first, word))
        for start in starts:
            position = start
            for pattern in self.words[1:]:
                window = words[position + 1 : position + 2 + MAX_GAP]
                hit = next(
                    (i for i, w in enumerate(window) if self._matches_word(pattern, w)), None
                )
                if hit is None or (
                    self.language in NEGATING_LANGUAGES and _negates(window[: hit + 1])
                ):
                    break
                position += 1 + hit
            else:
                return True
        return False


def _negates(skipped_then_hit: list[str]) -> bool:
    """Whether the words a phrase skipped (all but the last, which it matched) hold a negation.
    A "t" right after the phrase's last word is that word's own "n't" ("don* want to live")."""
    return any(
        word in NEGATIONS
        and skipped_then_hit[i + 1] not in NOT_NEGATING
        and not (i == 0 and word == "t")
        for i, word in enumerate(skipped_then_hit[:-1])
    )


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _pattern(token: str, language: Language) -> str:
    """One word of a phrase, normalised like a message; a trailing "*" stays a stem mark and
    "{10+}" (any number from 10) stays as it is."""
    if _NUMBER.fullmatch(token):
        return token
    stem = token.endswith("*")
    word = "".join(_words(normalize_for_nlu(token.rstrip("*"), language)))
    return word + "*" if stem and word else word


@dataclass(frozen=True)
class _PhraseIndex:
    """Phrases by their first word (exact) and by their first stem's length and letters, so a
    message is compared only with phrases that can start somewhere in it: a whole 4,000-
    character message is checked in milliseconds instead of a tenth of a second."""

    phrases: tuple[_Phrase, ...]
    _by_word: dict[str, tuple[_Phrase, ...]] = field(default_factory=dict, repr=False)
    _by_stem: dict[int, dict[str, tuple[_Phrase, ...]]] = field(default_factory=dict, repr=False)
    # Phrases that start with "{10+}" (Kazakh puts the number first: "30 димедрол іштім"),
    # tried on a message that holds a number.
    _by_number: list[_Phrase] = field(default_factory=list, repr=False)
    _order: dict[_Phrase, int] = field(default_factory=dict, repr=False)  # file order decides

    def __post_init__(self) -> None:
        by_word: dict[str, list[_Phrase]] = defaultdict(list)
        by_stem: dict[int, dict[str, list[_Phrase]]] = defaultdict(lambda: defaultdict(list))
        for position, phrase in enumerate(self.phrases):
            self._order.setdefault(phrase, position)
            first = phrase.words[0]
            if _NUMBER.fullmatch(first):
                self._by_number.append(phrase)
            elif first.endswith("*"):
                by_stem[len(first) - 1][first[:-1]].append(phrase)
            else:
                by_word[first].append(phrase)
        self._by_word.update({w: tuple(ps) for w, ps in by_word.items()})
        self._by_stem.update(
            {n: {s: tuple(ps) for s, ps in stems.items()} for n, stems in by_stem.items()}
        )

    def _candidates(self, words: list[str]) -> list[_Phrase]:
        found: set[_Phrase] = set()
        if any(word.isdigit() for word in words):
            found.update(self._by_number)
        for word in set(words):
            found.update(self._by_word.get(word, ()))
            for length, stems in self._by_stem.items():
                if len(word) >= length:
                    found.update(stems.get(word[:length], ()))
        return sorted(found, key=self._order.__getitem__)

    def found_in(self, words: list[str]) -> Iterator[_Phrase]:
        """The phrases found in the message's words, in file order, one at a time (the crisis
        check wants only the first; the cues want them all)."""
        at: dict[str, list[int]] = defaultdict(list)  # each word's positions
        for position, word in enumerate(words):
            at[word].append(position)
        stem_starts: dict[str, list[int]] = {}

        def starts(first: str) -> list[int] | None:
            if _NUMBER.fullmatch(first):
                return None  # the phrase compares the numbers itself
            if not first.endswith("*"):
                return at.get(first, [])
            if first not in stem_starts:
                stem = first[:-1]
                stem_starts[first] = sorted(
                    i for word, found in at.items() if word.startswith(stem) for i in found
                )
            return stem_starts[first]

        return (
            phrase
            for phrase in self._candidates(words)
            if phrase.found_in(words, starts(phrase.words[0]))
        )


@dataclass(frozen=True)
class _Combination:
    """Cues that make a crisis together though none does alone: a child's pregnancy test and
    "my stepdad", a lighter and a burn hidden on the thigh, a 9th-floor window and legs outside.
    Each cue is a list of phrases; every cue must be found somewhere in the message."""

    topic: str
    cues: tuple[str, ...]


def _parse_phrase(entry: object, topic: str, language: Language) -> _Phrase:
    text = str(entry)
    whole = text.startswith("= ")
    words = tuple(_pattern(token, language) for token in (text[2:] if whole else text).split())
    words = tuple(w for w in words if w)
    if not words or (_NUMBER.fullmatch(words[0]) and len(words) < 3):
        # "{10+} таблетка" would match a pack's label: a number opens a phrase only with at
        # least a noun and a verb after it
        raise ValueError(f"{entry!r}: a number opens a phrase of 3+ words")
    return _Phrase(topic, language, words, whole)


def _parse_phrases(by_name: dict[str, dict[str, list[object]]]) -> list[_Phrase]:
    """Phrases grouped by a name (a topic, or a cue) and a language, in file order."""
    return [
        _parse_phrase(entry, name, Language(language))
        for name, by_language in by_name.items()
        for language, entries in (by_language or {}).items()
        for entry in entries or ()
    ]


@dataclass(frozen=True)
class CrisisLexicon:
    phrases: tuple[_Phrase, ...]
    cue_phrases: tuple[_Phrase, ...] = ()  # a cue phrase's topic field holds its cue's name
    combinations: tuple[_Combination, ...] = ()
    _index: _PhraseIndex = field(init=False, repr=False)
    _cue_index: _PhraseIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", _PhraseIndex(self.phrases))
        object.__setattr__(self, "_cue_index", _PhraseIndex(self.cue_phrases))
        known = {phrase.topic for phrase in self.cue_phrases}
        for combination in self.combinations:
            if len(combination.cues) < 2:
                raise ValueError(f"combination {combination.cues}: it needs two cues or more")
            if missing := [cue for cue in combination.cues if cue not in known]:
                raise ValueError(f"combination {combination.cues}: no phrases for {missing}")

    @classmethod
    def load(cls, path: Path) -> CrisisLexicon:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        combinations = tuple(
            _Combination(str(entry["topic"]), tuple(str(cue) for cue in entry["cues"]))
            for entry in raw.get("combinations") or ()
        )
        return cls(
            tuple(_parse_phrases(raw["topics"])),
            tuple(_parse_phrases(raw.get("cues") or {})),
            combinations,
        )

    def match(self, text: str) -> CrisisMatch | None:
        """The crisis topic the message speaks of (and in which language), or None. A phrase
        decides first; then a combination of cues, in file order."""
        forms = sorted(
            {normalize_for_nlu(text, limit=MESSAGE_MAX_CHARS)}
            | {
                normalize_for_nlu(text, lang, limit=MESSAGE_MAX_CHARS)
                for lang in (Language.KK, Language.RU)
            }
        )
        messages = [_words(form) for form in forms]
        for words in messages:
            if phrase := next(self._index.found_in(words), None):
                return CrisisMatch(phrase.topic, phrase.language)
        if not self.combinations:
            return None
        cues: dict[str, Language] = {}  # each cue found, with its first phrase's language
        for words in messages:
            for phrase in self._cue_index.found_in(words):
                cues.setdefault(phrase.topic, phrase.language)
        for combination in self.combinations:
            if all(cue in cues for cue in combination.cues):
                return CrisisMatch(combination.topic, cues[combination.cues[0]])
        return None
