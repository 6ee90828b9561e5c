import stat

import pytest

from bot.safety.pseudonyms import Pseudonymizer
from bot.safety.secret_key import SecretKeyMissing, load_or_create_secret_key


def test_the_embedded_key_is_generated_once_with_0600(tmp_path):
    key = load_or_create_secret_key(None, tmp_path / "var", production=False)
    path = tmp_path / "var" / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret_key(None, tmp_path / "var", production=False) == key
    assert len(key) >= 48


def test_production_requires_a_configured_key(tmp_path):
    with pytest.raises(SecretKeyMissing):
        load_or_create_secret_key(None, tmp_path, production=True)
    assert load_or_create_secret_key("configured", tmp_path, production=True) == b"configured"
    assert not (tmp_path / "secret.key").exists()


def test_pseudonyms_are_stable_keyed_and_reveal_nothing():
    first, other = Pseudonymizer(b"k1"), Pseudonymizer(b"k2")
    assert first("telegram", 123456789) == first("telegram", "123456789")
    assert first("telegram", 123456789) != other("telegram", 123456789)
    assert first("telegram", 1) != first("terminal", 1)
    assert "123456789" not in first("telegram", 123456789)
    assert len(first("telegram", 1)) == 64
