"""The command line: ordinary mistakes end in one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess

from bot.settings import PROJECT_ROOT

SYRLAS = PROJECT_ROOT / ".venv" / "bin" / "syrlas"


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYRLAS_")}
    return subprocess.run(
        [str(SYRLAS), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert words in result.stderr


def test_run_without_a_token_says_so():
    assert_one_line_failure(run(["run"]), "SYRLAS_TELEGRAM_TOKEN")


def test_a_bad_setting_is_named():
    assert_one_line_failure(
        run(["kb", "check"], SYRLAS_WEBHOOK_PORT="eighty"), "SYRLAS_WEBHOOK_PORT"
    )


def test_an_unknown_database_is_refused(tmp_path):
    assert_one_line_failure(
        run(["db", "upgrade"], SYRLAS_DATABASE_URL="mysql://x@localhost/db"), "unsupported database"
    )


def test_postgres_without_a_secret_key_is_refused(tmp_path):
    result = run(
        ["chat"],
        SYRLAS_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test",
        SYRLAS_NLU_URL="http://127.0.0.1:9",
    )
    assert_one_line_failure(result, "SYRLAS_SECRET_KEY is required")


def test_unknown_command_is_a_usage_error():
    result = run(["frobnicate"])
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_db_upgrade_creates_the_sqlite_file(tmp_path):
    target = tmp_path / "nested" / "syrlas.db"
    result = run(["db", "upgrade"], SYRLAS_DATABASE_URL=f"sqlite:///{target}")
    assert result.returncode == 0, result.stderr
    assert target.exists()


def test_kb_check_passes_on_the_knowledge_base():
    result = run(["kb", "check"])
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("54/54 topics have curated answers; 0 problem(s)")
