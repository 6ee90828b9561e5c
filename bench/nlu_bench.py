"""NLU speed, printed (never asserted): Rasa's own parse vs the bot's path on top of it, and
`syrlas classify` throughput. Run with `make bench`.

- rasa: POST /model/parse with a bare httpx client, one request at a time (Rasa alone + HTTP)
- bot:  Engine.classify (cleaning, language detection, client, routing) over the same server
- lexicon: the crisis lexicon alone, on held-out messages and on 1,000- and 4,000-character texts
- long: Engine.classify on long messages (the whole parse plus one parse per sentence or window)
- classify: the `syrlas classify` command on N lines, against the same server, wall time
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

import httpx

from bot.nlu.text import MESSAGE_MAX_CHARS, message_parts
from bot.runtime import engine_factory, open_nlu
from bot.settings import PROJECT_ROOT, Settings

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
CLASSIFY_LINES = int(os.environ.get("BENCH_CLASSIFY_LINES", "3000"))
LONG_ROUNDS = int(os.environ.get("BENCH_LONG_ROUNDS", "30"))


def sample_texts() -> list[str]:
    texts = []
    for path in sorted((PROJECT_ROOT / "tests" / "data" / "heldout").glob("*/*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    return texts


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000)


async def main() -> None:
    settings = Settings()
    make_engine = engine_factory(settings)
    texts = sample_texts()
    async with open_nlu(settings, lambda m: print(m, file=sys.stderr)) as nlu:
        assert nlu.server is not None or settings.nlu_url
        url = nlu.client.base_url
        token = nlu.server.token if nlu.server else None
        engine = make_engine(nlu.client, None)
        params = {"token": token} if token else {}

        raw: list[float] = []
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            for i in range(ROUNDS):
                start = time.perf_counter()
                (
                    await http.post(
                        "/model/parse", params=params, json={"text": texts[i % len(texts)]}
                    )
                ).raise_for_status()
                raw.append(time.perf_counter() - start)
        bot: list[float] = []
        for i in range(ROUNDS):
            start = time.perf_counter()
            await engine.classify(texts[i % len(texts)])
            bot.append(time.perf_counter() - start)

        # Long messages: the lexicon reads all 4,000 characters, the classifier each sentence.
        story = " ".join(texts[:400])[:MESSAGE_MAX_CHARS]
        long_texts = [story[:1000], story]
        lexicon: dict[int, list[float]] = {len(t): [] for t in long_texts}
        long: dict[int, list[float]] = {len(t): [] for t in long_texts}
        for _ in range(LONG_ROUNDS):
            for text in long_texts:
                start = time.perf_counter()
                engine.crisis_match(text)
                lexicon[len(text)].append(time.perf_counter() - start)
                start = time.perf_counter()
                await engine.classify(text)
                long[len(text)].append(time.perf_counter() - start)
        short_lexicon = []
        for i in range(ROUNDS):
            start = time.perf_counter()
            engine.crisis_match(texts[i % len(texts)])
            short_lexicon.append(time.perf_counter() - start)

        lines = "".join(
            json.dumps({"text": texts[i % len(texts)]}, ensure_ascii=False) + "\n"
            for i in range(CLASSIFY_LINES)
        )
        env = dict(os.environ, SYRLAS_NLU_URL=url, SYRLAS_NLU_TOKEN=token or "")
        start = time.perf_counter()
        result = await asyncio.to_thread(
            subprocess.run,
            [str(PROJECT_ROOT / ".venv" / "bin" / "syrlas"), "classify"],
            input=lines,
            text=True,
            capture_output=True,
            env=env,
            check=True,
        )
        wall = time.perf_counter() - start
        assert len(result.stdout.splitlines()) == CLASSIFY_LINES

    raw_p50, raw_p95 = percentiles(raw)
    bot_p50, bot_p95 = percentiles(bot)
    print(f"NLU round trip over loopback, {ROUNDS} sequential parses of held-out texts")
    print(f"  rasa /model/parse     p50 {raw_p50:6.2f} ms   p95 {raw_p95:6.2f} ms")
    print(f"  bot Engine.classify   p50 {bot_p50:6.2f} ms   p95 {bot_p95:6.2f} ms")
    print(
        f"  bot overhead          p50 {bot_p50 - raw_p50:+6.2f} ms  "
        f"(ratio bot/rasa {bot_p50 / raw_p50:.2f})"
    )
    print("Crisis lexicon (in-process, no NLU):")
    p50, p95 = percentiles(short_lexicon)
    print(f"  held-out messages     p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    for size, samples in lexicon.items():
        p50, p95 = percentiles(samples)
        print(f"  {size:>5}-character text p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    print(f"Engine.classify on long messages (whole parse + a parse per part, {LONG_ROUNDS} runs):")
    for size, samples in long.items():
        p50, p95 = percentiles(samples)
        print(
            f"  {size:>5} characters, {len(message_parts(story[:size])):>2} parts "
            f"p50 {p50:6.1f} ms   p95 {p95:6.1f} ms  (ratio to a short message "
            f"{p50 / bot_p50:.1f})"
        )
    print(
        f"syrlas classify: {CLASSIFY_LINES} lines in {wall:.1f} s = "
        f"{CLASSIFY_LINES / wall:,.0f} lines/s ({CLASSIFY_LINES / wall * 60:,.0f} lines/min, "
        "including process start-up; the Rasa server was already running)"
    )


if __name__ == "__main__":
    asyncio.run(main())
