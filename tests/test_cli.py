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
    assert result.stdout.strip().endswith("55/55 topics have curated answers; 0 problem(s)")


def test_consultant_add_list_remove_and_mistakes(tmp_path):
    db = {"SYRLAS_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    added = run(
        ["consultant", "add", "123456789", "--role", "psychologist", "--languages", "kk,ru"], **db
    )
    assert added.returncode == 0, added.stderr
    listed = run(["consultant", "list"], **db)
    assert listed.stdout.split("\t")[:3] == ["123456789", "psychologist", "kk,ru"]
    assert_one_line_failure(run(["consultant", "add", "1", "--role", "nurse"], **db), "--role")
    assert_one_line_failure(
        run(["consultant", "add", "1", "--languages", "de"], **db), "--languages"
    )
    assert run(["consultant", "remove", "123456789"], **db).returncode == 0
    assert_one_line_failure(run(["consultant", "remove", "123456789"], **db), "not a registered")
    assert run(["consultant", "list"], **db).stdout == ""


def test_stats_table_csv_plot_and_a_bad_date(tmp_path):
    import asyncio
    import datetime as dt

    from bot.storage.database import create_engine_async
    from bot.storage.schema import upgrade
    from bot.storage.tickets import TicketRepository

    url = f"sqlite:///{tmp_path / 's.db'}"
    upgrade(url)

    async def fill() -> None:
        now = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
        clock = lambda: now  # noqa: E731
        repo = TicketRepository(create_engine_async(url), clock=clock)
        for i, (priority, minutes) in enumerate([("crisis", 4), ("normal", 30), ("normal", 90)]):
            ticket = await repo.open(
                pseudonym=f"{i:064d}",
                language="kk",
                audience="teen",
                topic="low_mood",
                role="psychologist",
                priority=priority,
                question="q",
            )
            await repo.take(ticket.id, 1)
            now += dt.timedelta(minutes=minutes)
            await repo.mark_answered(ticket.id, 1)
            await repo.close(ticket.id, reason="answered", consultant_id=1)
            await repo.rate(ticket.id, f"{i:064d}", 5 - i)
        await repo.open(
            pseudonym="x" * 64,
            language="ru",
            audience=None,
            topic=None,
            role="doctor",
            priority="urgent",
            question="q",
        )
        await repo.engine.dispose()

    asyncio.run(fill())
    table = run(["stats"], SYRLAS_DATABASE_URL=url)
    assert table.returncode == 0, table.stderr
    assert "minutes to first response  median" in table.stdout
    csv_out = run(["stats", "--format", "csv", "--since", "2026-11-01"], SYRLAS_DATABASE_URL=url)
    rows = [line.split(",") for line in csv_out.stdout.splitlines()]
    assert rows[0] == ["section", "key", "value", "n"]
    assert ["total", "tickets", "", "4"] in rows
    assert ["per day by language", "2026-11-20", "kk", "3"] in rows
    assert ["minutes to first response", "median", "", "30.0"] in rows
    assert ["open backlog", "urgent", "", "1"] in rows
    assert ["rating", "mean", "", "4.0"] in rows
    assert not any(len(row[0]) == 64 for row in rows)  # aggregated: no pseudonym anywhere
    later = run(["stats", "--format", "csv", "--since", "2026-12-01"], SYRLAS_DATABASE_URL=url)
    assert ["total", "tickets", "", "0"] in [line.split(",") for line in later.stdout.splitlines()]
    plot = run(["stats", "--plot", str(tmp_path / "s.png")], SYRLAS_DATABASE_URL=url)
    assert plot.returncode == 0 and (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert_one_line_failure(
        run(["stats", "--since", "yesterday"], SYRLAS_DATABASE_URL=url), "--since"
    )
