"""Telegram front speed, printed (never asserted): the time from an update's arrival at the
(fake, loopback) Bot API to the bot's sendMessage, p50 and p95, at 1 and at 30 messages per
second from distinct users; and the bot process's resident memory. Run with `make bench`.

Updates are served by long polling, so the figures include the getUpdates round trip, the
core (language, crisis lexicon, NLU over HTTP, routing), SQLite writes and the rate limiter.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.runtime import open_nlu
from bot.settings import PROJECT_ROOT, Settings
from tests.fake_telegram import FakeBotApi

QUESTIONS = [
    "у меня болят месячные",
    "етеккір кезінде ішім ауырады",
    "my baby has a fever",
    "как предохраняться",
    "сәлем",
    "can i talk to a doctor",
]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def burst(api: FakeBotApi, rate: float, count: int, first_user: int) -> list[float]:
    """Push ``count`` messages from distinct users at ``rate`` per second; return latencies."""
    pushed: dict[int, float] = {}
    for i in range(count):
        user = first_user + i
        api.push(api.text_message(user, QUESTIONS[i % len(QUESTIONS)]))
        pushed[user] = time.monotonic()
        await asyncio.sleep(1 / rate)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answered = {int(c.params["chat_id"]): c.at for c in api.calls_of("sendMessage") if c.ok}
        if all(user in answered for user in pushed):
            return [answered[user] - pushed[user] for user in pushed]
        await asyncio.sleep(0.05)
    raise RuntimeError("not every message was answered within 60 s")


def p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


async def main() -> None:
    settings = Settings()
    async with open_nlu(settings, lambda m: print(m, file=sys.stderr)) as nlu, FakeBotApi() as api:
        token = nlu.server.token if nlu.server else (settings.nlu_token or "")
        workdir = Path(tempfile.mkdtemp(prefix="syrlas-bench-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYRLAS_")}
        env.update(
            SYRLAS_TELEGRAM_TOKEN=api.token,
            SYRLAS_TELEGRAM_API_URL=api.base_url,
            SYRLAS_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
            SYRLAS_SECRET_KEY="bench",
            SYRLAS_NLU_URL=nlu.client.base_url,
            SYRLAS_NLU_TOKEN=str(token),
            SYRLAS_LOG_LEVEL="WARNING",
        )
        bot = await asyncio.create_subprocess_exec(
            str(PROJECT_ROOT / ".venv" / "bin" / "syrlas"),
            "run",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await api.wait_for("getUpdates", timeout=60)
            await burst(api, 5, 10, 9_000_000)  # warm-up: imports, first parses, SQLite pages
            idle = rss_mib(bot.pid)
            slow = await burst(api, 1, 20, 1_000_000)
            fast = await burst(api, 30, 150, 2_000_000)
            busy = rss_mib(bot.pid)
        finally:
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
    for name, samples in (("1 msg/s", slow), ("30 msg/s", fast)):
        p50, p95 = p50_p95(samples)
        print(
            f"update → sendMessage at {name:>8} ({len(samples)} users): "
            f"p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"
        )
    print(
        f"bot process resident memory: {idle:.0f} MiB after warm-up, {busy:.0f} MiB after the "
        "bursts (the Rasa server is a separate process, about 1 GiB)"
    )


if __name__ == "__main__":
    asyncio.run(main())
