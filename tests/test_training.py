"""The model is keyed by a fingerprint of everything that shapes it."""

from __future__ import annotations

import shutil

import pytest
import yaml

from bot.nlu.normalize import normalize_for_nlu
from bot.nlu.training import TrainingFailed, TrainingInputs, current_model, model_path, train


@pytest.fixture
def inputs(settings, tmp_path) -> TrainingInputs:
    shutil.copytree(settings.nlu_data_dir, tmp_path / "nlu_data")
    shutil.copy(settings.nlu_config, tmp_path / "config.yml")
    shutil.copy(settings.home / "nlu-requirements.lock", tmp_path / "nlu.lock")
    return TrainingInputs(tmp_path / "config.yml", tmp_path / "nlu_data", tmp_path / "nlu.lock")


def test_fingerprint_is_stable_and_follows_every_input(inputs):
    first = inputs.fingerprint()
    assert inputs.fingerprint() == first
    example = next(inputs.nlu_data.glob("ru/*.yml"))
    example.write_text(example.read_text(encoding="utf-8") + "    - ещё пример\n", encoding="utf-8")
    second = inputs.fingerprint()
    assert second != first
    inputs.config.write_text(inputs.config.read_text() + "\n# comment\n")
    third = inputs.fingerprint()
    assert third != second
    inputs.rasa_lock.write_text("rasa==9.9.9\n")
    assert inputs.fingerprint() != third


def test_a_cached_model_is_reused_without_running_rasa(inputs, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    cached = model_path(models, inputs.fingerprint())
    cached.write_bytes(b"model")
    missing_rasa = tmp_path / "no-rasa"
    with pytest.raises(TrainingFailed):
        train(inputs, missing_rasa, models)
    fake_rasa = tmp_path / "rasa"
    fake_rasa.write_text("#!/bin/sh\nexit 3\n")
    fake_rasa.chmod(0o755)
    assert train(inputs, fake_rasa, models) == (cached, False)
    assert current_model(inputs, models) == cached
    with pytest.raises(TrainingFailed, match="exit code 3"):
        train(inputs, fake_rasa, models, force=True)
    assert cached.read_bytes() == b"model"  # a failed retrain leaves the old model in place


def test_rasa_learns_from_the_normalised_examples(inputs, tmp_path):
    """The same normalisation on both paths: what Rasa trains on is what the client sends."""
    seen = tmp_path / "seen"
    fake_rasa = tmp_path / "rasa"
    fake_rasa.write_text(f'#!/bin/sh\ncp -r "$6" "{seen}"\nexit 3\n')
    fake_rasa.chmod(0o755)
    with pytest.raises(TrainingFailed):
        train(inputs, fake_rasa, tmp_path / "models", force=True)
    original = _examples(inputs.nlu_data / "kk" / "period_pain.yml")
    trained = _examples(seen / "kk" / "period_pain.yml")
    assert trained == list(dict.fromkeys(normalize_for_nlu(e) for e in original))
    assert any(e != normalize_for_nlu(e) for e in original)  # the test shows a real change


def _examples(path):
    block = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"][0]["examples"]
    return [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- ")]
