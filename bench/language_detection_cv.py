"""Language detection accuracy, printed (never asserted): 5-fold cross-validation over nlu_data/.

Rows: language (the folder) x script; "cyr-" is Cyrillic without the Kazakh-only letters
ә ғ қ ң ө ұ ү һ і (those mean Kazakh to both detectors; the ru folder has some code-mixed
examples with them, counted wrong). Folds are split by intent: every example of an intent, in
all three languages, is in the same fold, so a fold's topics (and their words) were never seen
when its model was trained. The gold language is the folder (nlu_data/{kk,ru,en}); the script
is the majority of the letters.

- old: the letters + marker words detector as of commit 340a450 (read from git; no training)
- new: bot.nlu.language (letter rule + character n-gram naive Bayes), trained on the other folds

"confident" columns: the share of examples the detector is confident about, and how many of
those are right (a confident answer may override the language the user chose).

Run: .venv/bin/python bench/language_detection_cv.py [--folds 5] [--random]
  --random splits by random example instead of by intent.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
import types
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bot.languages import LANGUAGES, Language
from bot.nlu.data import nlu_examples
from bot.nlu.language import NLU_DATA, Detection, LanguageModel, detect_language
from bot.settings import PROJECT_ROOT

OLD_COMMIT = "340a450fe2b153ca938eae5fb8977f3461bf9fc8"
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]", re.IGNORECASE)
_LATIN = re.compile(r"[a-zäğñöūüış]", re.IGNORECASE)
KK_LETTERS = frozenset("әғқңөұүһі")

Example = tuple[str, Language, str]  # intent, language, text
Detector = Callable[[str], Detection]


def read_examples(folder: Path) -> list[Example]:
    found = nlu_examples(folder)
    return [
        (intent, language, text)
        for language in LANGUAGES
        for intent, texts in found.get(language.value, {}).items()
        for text in texts
    ]


def script(text: str) -> str:
    return "latin" if len(_LATIN.findall(text)) > len(_CYRILLIC.findall(text)) else "cyrillic"


def old_detector() -> Detector | None:
    """The detector before the n-gram model, from git (None if git or the commit is missing)."""
    try:
        source, markers = (
            subprocess.run(
                ["git", "show", f"{OLD_COMMIT}:bot/nlu/{name}"],
                cwd=PROJECT_ROOT,
                capture_output=True,
                check=True,
                text=True,
            ).stdout
            for name in ("language.py", "language_markers.yml")
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(tempfile.mkdtemp(prefix="syrlas-old-language-"))
    (folder / "language_markers.yml").write_text(markers, encoding="utf-8")
    module = types.ModuleType("old_language")
    module.__file__ = str(folder / "language.py")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module.detect_language


def folds(examples: list[Example], k: int, by_intent: bool) -> list[list[int]]:
    rng = random.Random(20240601)
    if by_intent:
        intents = sorted({intent for intent, _, _ in examples})
        rng.shuffle(intents)
        fold_of = {intent: i % k for i, intent in enumerate(intents)}
        keys = [fold_of[intent] for intent, _, _ in examples]
    else:
        order = list(range(len(examples)))
        rng.shuffle(order)
        keys = [0] * len(examples)
        for rank, i in enumerate(order):
            keys[i] = rank % k
    return [[i for i, key in enumerate(keys) if key == fold] for fold in range(k)]


class Tally:
    def __init__(self) -> None:
        # (language, script) -> [n, right, confident, confident and right]
        self.cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])

    def add(self, language: Language, text: str, detection: Detection) -> None:
        right = detection.language is language
        keys = [(language.value, script(text)), (language.value, "all"), ("all", "all")]
        if script(text) == "cyrillic" and KK_LETTERS.isdisjoint(text.lower()):
            keys.append((language.value, "cyr-"))
        for key in keys:
            cell = self.cells[key]
            cell[0] += 1
            cell[1] += right
            cell[2] += detection.confident
            cell[3] += detection.confident and right

    def row(self, key: tuple[str, str]) -> str:
        n, right, confident, confident_right = self.cells.get(key, [0, 0, 0, 0])
        if not n:
            return f"{'-':>7} {'-':>6} {'-':>6}"
        precision = f"{100 * confident_right / confident:5.1f}%" if confident else "    - "
        return f"{100 * right / n:6.1f}% {100 * confident / n:5.1f}% {precision}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--random", action="store_true", help="split by example, not by intent")
    args = parser.parse_args()

    examples = read_examples(NLU_DATA)
    old = old_detector()
    old_tally, new_tally = Tally(), Tally()
    train_seconds = []
    for test in folds(examples, args.folds, by_intent=not args.random):
        held_out = set(test)
        started = time.perf_counter()
        model = LanguageModel.train(
            (language, text) for i, (_, language, text) in enumerate(examples) if i not in held_out
        )
        train_seconds.append(time.perf_counter() - started)
        for i in test:
            _, language, text = examples[i]
            new_tally.add(language, text, detect_language(text, model=model))
            if old:
                old_tally.add(language, text, old(text))

    split = "random example" if args.random else "intent"
    print(
        f"{args.folds}-fold cross-validation over {NLU_DATA} ({len(examples)} examples), ", end=""
    )
    print(f"split by {split}")
    print("accuracy, share confident, accuracy when confident")
    header = f"{'language':8} {'script':8} {'n':>5}   {'old':^22}   {'new':^22}"
    print(header)
    print("-" * len(header))
    keys = [
        (language.value, s) for language in LANGUAGES for s in ("cyrillic", "cyr-", "latin", "all")
    ] + [("all", "all")]
    for key in keys:
        n = new_tally.cells.get(key, [0])[0]
        if not n:
            continue
        old_row = old_tally.row(key) if old else "(git history not available)"
        print(f"{key[0]:8} {key[1]:8} {n:5}   {old_row}   {new_tally.row(key)}")

    print(f"\ntraining per fold: {1000 * sum(train_seconds) / len(train_seconds):.0f} ms")
    texts = [text for _, _, text in examples]
    started = time.perf_counter()
    from bot.nlu.language import language_model

    language_model()
    print(f"full model (first use): {1000 * (time.perf_counter() - started):.0f} ms")
    for label, repeat in (("cold word cache", 1), ("warm word cache", 3)):
        language_model().word_scores.cache_clear()
        started = time.perf_counter()
        for _ in range(repeat):
            for text in texts:
                detect_language(text)
        per_call = (time.perf_counter() - started) / (repeat * len(texts))
        print(f"detect_language per call ({label}): {1e6 * per_call:.1f} µs")


if __name__ == "__main__":
    main()
