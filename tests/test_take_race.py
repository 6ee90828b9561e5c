"""Two bot processes sharing one PostgreSQL press Take on the same tickets at the same moment:
every ticket has exactly one holder, and each process's view agrees with the database."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from bot.settings import PROJECT_ROOT
from bot.storage.database import create_engine_async
from bot.storage.schema import upgrade
from bot.storage.tickets import TicketRepository

TICKETS = 200
FIRST, SECOND = 7001, 7002


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_processes_never_both_take_a_ticket(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine_async(database_url)
    repo = TicketRepository(engine)
    ids = []
    for i in range(TICKETS):
        ticket = await repo.open(
            pseudonym=f"{i:064d}",
            language="ru",
            audience=None,
            topic=None,
            role="doctor",
            priority="normal",
            question="q",
        )
        ids.append(ticket.id)
    start_at = time.time() + 3.0
    workers = [
        subprocess.Popen(  # noqa: ASYNC220 - two real processes are the point of this test
            [
                sys.executable,
                "-m",
                "tests.take_race_worker",
                database_url,
                str(consultant),
                str(start_at),
                # opposite orders: they meet in the middle, pressing Take on the same tickets
                ",".join(map(str, ids if consultant == FIRST else ids[::-1])),
            ],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for consultant in (FIRST, SECOND)
    ]
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        results.append(set(json.loads(out)))
    first, second = results
    assert first.isdisjoint(second)
    assert first | second == set(ids)
    for ticket_id in ids:
        holder = (await repo.get(ticket_id)).consultant_id
        assert holder == (FIRST if ticket_id in first else SECOND)
    await engine.dispose()
    # both really raced (not one finishing before the other started): each won some
    assert first and second, (len(first), len(second))
