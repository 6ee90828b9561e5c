"""Training the Rasa NLU model, cached by a fingerprint of everything that shapes it."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.nlu.normalize import normalize_for_nlu
from bot.nlu.safety_sets import training_examples

# Bump when the way we build the model changes in a way the inputs below do not show.
TRAINING_FORMAT = "syrlas-nlu-4"
# The code that shapes what the model sees: a change here means a different model.
NORMALISATION_FILES = tuple(
    Path(__file__).with_name(name)
    for name in (
        "normalize.py",
        "transliteration.yml",
        "language.py",
        "language_markers.yml",
        "text.py",
    )
)


class TrainingFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class TrainingInputs:
    config: Path
    nlu_data: Path
    rasa_lock: Path  # the pinned Rasa environment: another Rasa means another model
    # The development safety sets (bot/nlu/safety_sets.py), learnt from beside nlu_data/.
    safety_sets: tuple[Path, ...] = ()

    def files(self) -> list[Path]:
        data = sorted(
            p for p in self.nlu_data.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml"}
        )
        sets = [path for folder in self.safety_sets for path in sorted(folder.glob("*.yml"))]
        return [self.config, self.rasa_lock, *NORMALISATION_FILES, *data, *sets]

    def fingerprint(self) -> str:
        digest = hashlib.sha256(TRAINING_FORMAT.encode())
        for path in self.files():
            if path.is_relative_to(self.nlu_data):
                name = str(path.relative_to(self.nlu_data))
            elif path.parent in self.safety_sets:
                name = f"{path.parent.name}/{path.name}"
            else:
                name = path.name
            digest.update(f"\0{name}\0".encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()


def normalised_examples(examples: list[str]) -> list[str]:
    """The examples as the classifier will see them, duplicates (after normalising) dropped."""
    return list(dict.fromkeys(filter(None, (normalize_for_nlu(e) for e in examples))))


def write_normalised_data(source: Path, target: Path, safety_sets: tuple[Path, ...] = ()) -> Path:
    """A copy of ``nlu_data/`` with every example passed through ``normalize_for_nlu``, plus
    ``<lang>/safety_sets.yml`` with the development safety sets' messages."""
    for path in sorted(source.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            if "examples" in block:
                raw = [
                    line.strip()[1:].strip()
                    for line in block["examples"].splitlines()
                    if line.strip().startswith("-")
                ]
                block["examples"] = "".join(f"- {e}\n" for e in normalised_examples(raw))
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for language, by_topic in training_examples(safety_sets).items():
        blocks = [
            {"intent": topic, "examples": "".join(f"- {e}\n" for e in normalised_examples(texts))}
            for topic, texts in sorted(by_topic.items())
            if texts
        ]
        out = target / language / "safety_sets.yml"
        if out.exists():
            raise TrainingFailed(f"{source / language / out.name} would be overwritten: rename it")
        out.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": "3.1", "nlu": blocks}
        out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def model_path(models_dir: Path, fingerprint: str) -> Path:
    return models_dir / f"nlu-{fingerprint[:20]}.tar.gz"


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One training at a time per cache folder (two checkouts may share it)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def rasa_environment() -> dict[str, str]:
    """Rasa runs offline: no telemetry, quiet TensorFlow, no writes to the user's home config."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_ENABLE_ONEDNN_OPTS="0",
        SANIC_REGISTER="False",
        PYTHONWARNINGS="ignore",
    )
    return env


def train(
    inputs: TrainingInputs,
    rasa: Path,
    models_dir: Path,
    *,
    force: bool = False,
    log: Path | None = None,
) -> tuple[Path, bool]:
    """The model for these inputs, and whether it was trained now (False: reused from cache)."""
    if not rasa.exists():
        raise TrainingFailed(f"Rasa is not installed at {rasa}: run `make setup`")
    fingerprint = inputs.fingerprint()
    target = model_path(models_dir, fingerprint)
    with _exclusive(models_dir / ".train.lock"):
        if target.exists() and not force:
            return target, False
        with tempfile.TemporaryDirectory(prefix="syrlas-train-") as workdir:
            # The model learns from the examples exactly as the client will send messages.
            normalised = write_normalised_data(
                inputs.nlu_data, Path(workdir) / "nlu", inputs.safety_sets
            )
            command = [
                str(rasa),
                "train",
                "nlu",
                "--config",
                str(inputs.config),
                "--nlu",
                str(normalised),
                "--out",
                workdir,
                "--fixed-model-name",
                target.name.removesuffix(".tar.gz"),
            ]
            log_handle = log.open("w") if log else subprocess.DEVNULL
            try:
                # Rasa writes .rasa/ caches in its working directory: keep them in the temp dir.
                result = subprocess.run(
                    command,
                    cwd=workdir,
                    env=rasa_environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=log_handle,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            finally:
                if log_handle is not subprocess.DEVNULL:
                    log_handle.close()
            produced = Path(workdir) / target.name
            if result.returncode != 0 or not produced.exists():
                hint = f" (log: {log})" if log else ""
                raise TrainingFailed(
                    f"rasa train nlu failed with exit code {result.returncode}{hint}"
                )
            models_dir.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            shutil.move(str(produced), partial)
            partial.replace(target)  # atomic: a reader never sees half a model
    return target, True


def current_model(inputs: TrainingInputs, models_dir: Path) -> Path | None:
    target = model_path(models_dir, inputs.fingerprint())
    return target if target.exists() else None
