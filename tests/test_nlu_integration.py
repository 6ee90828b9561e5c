"""End to end with the real trained model and a real Rasa server: the chat, classify, the
NLU-down path, and the server's life cycle (restart on death, nothing left behind)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bot.knowledge.base import KnowledgeBase
from bot.languages import Language
from bot.nlu.client import NluUnavailable, RasaClient
from bot.nlu.server import RasaServer, free_loopback_port
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.rasa
SYRLAS = PROJECT_ROOT / ".venv" / "bin" / "syrlas"


def rasa_pids(workdir: Path | None = None) -> set[int]:
    """Live `rasa run` processes (optionally only those working in ``workdir``)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            if b"rasa run --enable-api" not in cmdline:
                continue
            if (entry / "stat").read_text().split()[2] == "Z":
                continue
            if workdir is None or Path(os.readlink(entry / "cwd")) == workdir:
                found.add(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYRLAS_")}
    env.update(
        SYRLAS_DATABASE_URL=f"sqlite:///{tmp_path / 'chat.db'}",
        SYRLAS_SECRET_KEY="test-secret-key",
        **extra,
    )
    return env


def run_syrlas(
    args: list[str], stdin: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SYRLAS), *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT_ROOT,
        check=False,
    )


@pytest.fixture
def chat_env(tmp_path, rasa_server) -> dict[str, str]:
    subprocess.run(
        [str(SYRLAS), "db", "upgrade"], env=env_for(tmp_path), check=True, capture_output=True
    )
    return env_for(tmp_path, SYRLAS_NLU_URL=rasa_server.url, SYRLAS_NLU_TOKEN=rasa_server.token)


async def test_the_real_model_understands_the_first_slice(rasa_server):
    client = RasaClient(rasa_server.url, rasa_server.token)
    try:
        for text, topic in [
            ("у меня болят месячные", "period_pain"),
            ("етеккір кезінде ішім қатты ауырады", "period_pain"),
            ("my baby has a temperature of 39", "child_fever"),
            ("сәлеметсіз бе", "greet"),
        ]:
            result = await client.parse(text)
            assert result.top.name == topic, (text, result.ranking[:3])
    finally:
        await client.aclose()


def test_chat_answers_a_new_user_in_russian_from_responses(chat_env, knowledge: KnowledgeBase):
    result = run_syrlas(["chat"], "у меня болят месячные\n", chat_env)
    assert result.returncode == 0, result.stderr
    assert "Қазақша" in result.stdout and "Русский" in result.stdout  # onboarding offered
    answer = knowledge.answer("period_pain", Language.RU, None).text.strip()
    assert answer.splitlines()[0] in result.stdout
    assert "Traceback" not in result.stderr


def test_chat_buttons_are_numbered_choices(chat_env, knowledge: KnowledgeBase):
    # [2] Русский, then [2] "I'm a parent", then a Kazakh question answered in Kazakh.
    result = run_syrlas(["chat"], "2\n2\nбалам қызуы 39, не істеймін\n/quit\n", chat_env)
    assert result.returncode == 0, result.stderr
    assert "Кто вы?" in result.stdout
    kk_fever = knowledge.answer("child_fever", Language.KK, "parent").danger_signs[0]
    assert kk_fever in result.stdout


def test_chat_with_language_and_audience_flags_skips_onboarding(chat_env, knowledge):
    result = run_syrlas(
        ["chat", "--lang", "en", "--audience", "teen"], "how do i use a condom\n", chat_env
    )
    assert result.returncode == 0, result.stderr
    assert "Which language" not in result.stdout
    assert knowledge.answer("contraception", Language.EN, "teen").text.strip()[:60] in result.stdout


def test_classify_prints_one_line_per_input_in_order(chat_env):
    lines = [
        {"text": "у меня болят месячные"},
        {"text": "не хочу больше жить", "lang": "ru"},
        {"text": "my baby has a fever of 39"},
        {"text": "сәлем"},
        {"text": "хочу поговорить с живым врачом"},
    ]
    result = run_syrlas(
        ["classify"],
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines * 20),
        chat_env,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 100
    assert [r["text"] for r in rows[:5]] == [x["text"] for x in lines]
    first = rows[0]
    assert set(first) == {"text", "lang", "topic", "confidence", "route"}
    assert (first["lang"], first["topic"], first["route"]) == ("ru", "period_pain", "answer")
    assert (rows[1]["route"], rows[1]["topic"]) == ("crisis", "self_harm_suicide")
    assert (rows[2]["lang"], rows[2]["route"]) == ("en", "urgent")
    assert (rows[3]["lang"], rows[3]["route"]) == ("kk", "meta")
    assert rows[4]["route"] == "handoff"
    assert all(0.0 <= r["confidence"] <= 1.0 for r in rows)


def test_classify_keeps_lines_aligned_and_fails_on_bad_input(chat_env):
    stdin = '{"text": "привет"}\nnot json\n{"text": 5}\n{"text": "hi", "lang": "de"}\n'
    result = run_syrlas(["classify"], stdin, chat_env)
    assert result.returncode == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 4 and "route" in rows[0]
    assert all("error" in row for row in rows[1:])
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_chat_with_the_nlu_down_is_kind_and_offers_a_consultant(tmp_path, knowledge):
    # No `db upgrade` first: the embedded SQLite database is created on first run.
    dead = f"http://127.0.0.1:{free_loopback_port()}"
    result = run_syrlas(
        ["chat", "--lang", "ru", "--audience", "teen"],
        "у меня болят месячные\n",
        env_for(tmp_path, SYRLAS_NLU_URL=dead),
    )
    assert result.returncode == 0, result.stderr
    assert "технической проблемы" in result.stdout
    assert knowledge.helplines.danger_now_lines(Language.RU)[0] in result.stdout
    assert "Спросить консультанта" in result.stdout
    assert (tmp_path / "chat.db").exists()


def test_classify_with_the_nlu_down_fails_in_one_line(tmp_path):
    dead = f"http://127.0.0.1:{free_loopback_port()}"
    result = run_syrlas(
        ["classify"], '{"text": "привет"}\n', env_for(tmp_path, SYRLAS_NLU_URL=dead)
    )
    assert result.returncode == 1
    assert result.stderr.startswith("syrlas: error:") and "Traceback" not in result.stderr


def test_chat_starts_its_own_server_and_leaves_nothing_behind(tmp_path, settings, nlu_model):
    workdir = settings.var_dir / "rasa"
    assert rasa_pids(workdir) == set()
    env = env_for(tmp_path)
    subprocess.run([str(SYRLAS), "db", "upgrade"], env=env, check=True)
    result = run_syrlas(
        ["chat", "--lang", "ru", "--audience", "teen"], "у меня болят месячные\n", env
    )
    assert result.returncode == 0, result.stderr
    assert "Источники:" in result.stdout
    assert rasa_pids(workdir) == set()


def test_killing_the_bot_takes_its_nlu_server_along(tmp_path, settings, nlu_model):
    workdir = settings.var_dir / "rasa"
    env = env_for(tmp_path)
    subprocess.run([str(SYRLAS), "db", "upgrade"], env=env, check=True)
    chat = subprocess.Popen(
        [str(SYRLAS), "chat", "--lang", "ru"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=PROJECT_ROOT,
        text=True,
    )
    try:
        assert chat.stdout.readline()  # the welcome: the server is up
        assert rasa_pids(workdir)
        chat.send_signal(signal.SIGKILL)
        chat.wait(timeout=10)
        deadline = time.monotonic() + 30
        while rasa_pids(workdir) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert rasa_pids(workdir) == set()
    finally:
        if chat.poll() is None:
            chat.kill()


async def test_a_dead_server_is_restarted(settings, nlu_model, tmp_path):
    server = RasaServer(settings.rasa_executable, nlu_model, tmp_path / "rasa")
    await server.start()
    client = server.client()
    try:
        assert (await client.parse("привет")).top is not None
        first_pid = server.pid
        os.killpg(first_pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        with pytest.raises(NluUnavailable):
            await client.parse("привет")
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                assert (await client.parse("привет")).top is not None
                break
            except NluUnavailable:
                await asyncio.sleep(1)
        else:
            raise AssertionError("the server was not restarted")
        assert server.pid != first_pid and server.restarts == 1
    finally:
        await client.aclose()
        await server.stop()
    assert rasa_pids(tmp_path / "rasa") == set()
