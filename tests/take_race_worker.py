"""One of two processes racing to take the same tickets (run by test_take_race.py).

Usage: python -m tests.take_race_worker <database url> <consultant id> <start at (epoch s)> <ids>
Prints the JSON list of ticket ids this process won.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bot.storage.database import create_engine_async
from bot.storage.tickets import TicketRepository


async def main(url: str, consultant: int, start_at: float, ids: list[int]) -> None:
    engine = create_engine_async(url)
    repo = TicketRepository(engine)
    await repo.get(ids[0])  # connect before the start line, so both start hot
    await asyncio.sleep(max(0.0, start_at - time.time()))
    won = [ticket_id for ticket_id in ids if await repo.take(ticket_id, consultant)]
    await engine.dispose()
    print(json.dumps(won))


if __name__ == "__main__":
    url, consultant, start_at, ids = sys.argv[1:5]
    asyncio.run(main(url, int(consultant), float(start_at), [int(i) for i in ids.split(",")]))
