"""Reading the training examples in ``nlu_data/<language>/<intent>.yml`` (Rasa NLU YAML)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml


def nlu_examples(nlu_data_dir: Path) -> dict[str, dict[str, list[str]]]:
    """language folder -> intent -> its training examples."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(nlu_data_dir.glob("*/*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            if "intent" in block:
                lines = str(block.get("examples", "")).splitlines()
                found[path.parent.name][block["intent"]] += [
                    line.strip()[1:].strip() for line in lines if line.strip().startswith("-")
                ]
    return found
