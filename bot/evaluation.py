"""``syrlas eval``: NLU quality on the held-out set, per language and per script.

The held-out set (``tests/data/heldout/<lang>.jsonl``) is written apart from the training data.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.dialogue.engine import Engine
from bot.languages import LANGUAGES
from bot.nlu.language import detect_language
from bot.nlu.text import clean_text
from bot.settings import Settings


@dataclass(frozen=True)
class Example:
    text: str
    topic: str
    language: str
    script: str


@dataclass
class LanguageReport:
    language: str
    gold: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    decided: list[str | None] = field(default_factory=list)  # topic the bot acted on, or None
    detection: Counter = field(default_factory=Counter)  # (script, correct) -> count

    @property
    def accuracy(self) -> float:
        return sum(g == p for g, p in zip(self.gold, self.predicted, strict=True)) / len(self.gold)

    @property
    def macro_f1(self) -> float:
        return macro_f1(self.gold, self.predicted)


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    labels = sorted(set(gold))
    scores = []
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def load_heldout(folder: Path) -> list[Example]:
    """``<folder>/<lang>/*.jsonl``: one ``{"text", "topic", "script"}`` object a line."""
    examples = []
    for language in LANGUAGES:
        for path in sorted((folder / language).glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    script = row.get("script", "latn")
                    examples.append(Example(row["text"], row["topic"], language.value, script))
    return examples


async def evaluate(engine: Engine, examples: list[Example]) -> dict[str, LanguageReport]:
    reports: dict[str, LanguageReport] = {}
    for example in examples:
        report = reports.setdefault(example.language, LanguageReport(example.language))
        parse = await engine.nlu.parse(clean_text(example.text))
        _, decision = await engine.classify(example.text)
        report.gold.append(example.topic)
        report.predicted.append(parse.top.name if parse.top else "")
        report.decided.append(decision.topic)
        detected = detect_language(example.text).language
        report.detection[(example.script, detected == example.language)] += 1
    return reports


def format_report(reports: dict[str, LanguageReport]) -> str:
    lines = ["lang  n    accuracy  macro-F1  acted-correct  detection (script: correct/n)"]
    for language, report in reports.items():
        acted = sum(d == g for d, g in zip(report.decided, report.gold, strict=True))
        by_script: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for (script, correct), count in report.detection.items():
            by_script[script][1] += count
            by_script[script][0] += count if correct else 0
        detection = ", ".join(f"{s}: {c}/{n}" for s, (c, n) in sorted(by_script.items()))
        lines.append(
            f"{language:<5} {len(report.gold):<4} {report.accuracy:8.3f}  "
            f"{report.macro_f1:8.3f}  {acted / len(report.gold):13.3f}  {detection}"
        )
    return "\n".join(lines)


def plot_confusion(reports: dict[str, LanguageReport], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(reports), figsize=(7 * len(reports), 6.5), squeeze=False)
    for axis, (language, report) in zip(axes[0], reports.items(), strict=False):
        labels = sorted(set(report.gold) | set(report.predicted))
        index = {label: i for i, label in enumerate(labels)}
        matrix = [[0] * len(labels) for _ in labels]
        for gold, predicted in zip(report.gold, report.predicted, strict=True):
            matrix[index[gold]][index[predicted]] += 1
        axis.imshow(matrix, cmap="Blues")
        axis.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        axis.set_yticks(range(len(labels)), labels, fontsize=7)
        axis.set_title(
            f"{language}: accuracy {report.accuracy:.2f}, macro-F1 {report.macro_f1:.2f}"
        )
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


async def run_evaluation(
    settings: Settings, data: str | None, plot: str | None, status: Callable[[str], None]
) -> int:
    from bot.runtime import SetupError, engine_factory, open_nlu

    folder = Path(data) if data else settings.home / "tests" / "data" / "heldout"
    examples = load_heldout(folder)
    if not examples:
        raise SetupError(f"no held-out examples in {folder}")
    make_engine = engine_factory(settings)
    async with open_nlu(settings, status) as nlu:
        engine = make_engine(nlu.client, None)
        reports = await evaluate(engine, examples)
    print(format_report(reports))
    if plot:
        plot_confusion(reports, Path(plot))
        status(f"confusion matrices written to {plot}")
    return 0
