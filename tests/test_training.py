"""The model is keyed by a fingerprint of everything that shapes it."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
import yaml

from bot.nlu.normalize import normalize_for_nlu
from bot.nlu.training import (
    TrainingFailed,
    TrainingInputs,
    current_model,
    model_path,
    train,
    write_normalised_data,
)


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
    seen = _what_rasa_is_given(inputs, tmp_path)
    original = _examples(inputs.nlu_data / "kk" / "period_pain.yml")
    trained = _examples(seen / "kk" / "period_pain.yml")
    assert trained == list(dict.fromkeys(normalize_for_nlu(e) for e in original))
    assert any(e != normalize_for_nlu(e) for e in original)  # the test shows a real change


def _what_rasa_is_given(inputs, tmp_path):
    """The training data folder a stand-in for Rasa receives (it copies it, then fails)."""
    seen = tmp_path / "seen"
    fake_rasa = tmp_path / "rasa"
    fake_rasa.write_text(f'#!/bin/sh\ncp -r "$6" "{seen}"\nexit 3\n')
    fake_rasa.chmod(0o755)
    with pytest.raises(TrainingFailed):
        train(inputs, fake_rasa, tmp_path / "models", force=True)
    return seen


def _examples(path):
    block = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"][0]["examples"]
    return [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- ")]


def _write_set(folder, language, crisis, negatives):
    folder.mkdir(parents=True, exist_ok=True)
    data = {"crisis": crisis, "not_crisis": negatives}
    (folder / f"{language}.yml").write_text(yaml.safe_dump(data, allow_unicode=True))


def test_the_development_safety_sets_are_learnt_from_under_their_topics(inputs, tmp_path):
    sets = (tmp_path / "safety_a", tmp_path / "safety_b")
    _write_set(sets[0], "kk", {"self_harm_suicide": ["Арқан дайын, бүгін"]}, {"sleep_teen": []})
    _write_set(
        sets[1],
        "kk",
        {"self_harm_suicide": ["ертең мені көрмейсіңдер"]},
        {"stress_anxiety": ["емтихан мені өлтіреді 😂"]},
    )
    with_sets = dataclasses.replace(inputs, safety_sets=sets)
    fingerprint = with_sets.fingerprint()
    assert fingerprint != inputs.fingerprint()
    seen = _what_rasa_is_given(with_sets, tmp_path)
    blocks = yaml.safe_load((seen / "kk" / "safety_sets.yml").read_text(encoding="utf-8"))["nlu"]
    learnt = {
        b["intent"]: [line[2:] for line in b["examples"].splitlines() if line.startswith("- ")]
        for b in blocks
    }
    assert learnt == {
        "self_harm_suicide": [normalize_for_nlu("Арқан дайын, бүгін"), "ертен мени кормеисиндер"],
        "stress_anxiety": [normalize_for_nlu("емтихан мені өлтіреді 😂")],
    }
    assert not (seen / "ru" / "safety_sets.yml").exists()  # no set speaks Russian here
    # a change to a set's file is a different model
    _write_set(sets[1], "kk", {"self_harm_suicide": ["ертең мені көрмейсің"]}, {})
    assert with_sets.fingerprint() != fingerprint


def test_a_missing_development_set_or_unlabelled_look_alikes_are_refused(inputs, tmp_path):
    folder = tmp_path / "safety_a"
    _write_set(folder, "en", {"self_harm_suicide": ["bye everyone"]}, ["this exam kills me"])
    with pytest.raises(ValueError, match="ordinary topic"):
        write_normalised_data(inputs.nlu_data, tmp_path / "out", (folder,))
    with pytest.raises(FileNotFoundError, match="is missing"):
        write_normalised_data(inputs.nlu_data, tmp_path / "out", (tmp_path / "safety_gone",))
