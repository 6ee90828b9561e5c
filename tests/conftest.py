"""Shared fixtures: settings, content, databases (SQLite and PostgreSQL), a real Rasa server."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.i18n import Catalogs
from bot.knowledge.base import KnowledgeBase, load_knowledge_base
from bot.nlu.server import RasaServer
from bot.nlu.training import current_model, train
from bot.runtime import training_inputs
from bot.safety.crisis import CrisisLexicon
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.database import create_engine_async
from bot.storage.repository import Repository
from bot.storage.schema import upgrade

POSTGRES_URL = os.environ.get(
    "SYRLAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(_env_file=None, home=PROJECT_ROOT)


@pytest.fixture(scope="session")
def knowledge(settings: Settings) -> KnowledgeBase:
    return load_knowledge_base(settings.responses_dir)


@pytest.fixture(scope="session")
def crisis_lexicon(settings: Settings) -> CrisisLexicon:
    return CrisisLexicon.load(settings.responses_dir / "crisis_lexicon.yml")


@pytest.fixture(scope="session")
def catalogs(settings: Settings) -> Catalogs:
    return Catalogs(settings.locales_dir)


# --- databases ----------------------------------------------------------------------------------
def _postgres_available() -> str | None:
    try:
        engine = create_engine(make_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the `test` database for this session, dropped at the end."""
    problem = _postgres_available()
    if problem:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL} ({problem})"
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {message}")
        pytest.skip(f"{message}: PostgreSQL storage tests skipped on this machine")
    schema = f"syrlas_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage behaviour runs on both databases, each time on an empty schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'syrlas.db'}"
        return
    url = request.getfixturevalue("postgres_schema_url")
    engine = create_engine(make_url(url))
    with engine.begin() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        if names := ", ".join(f'"{name}"' for name in tables):
            conn.execute(text(f"DROP TABLE IF EXISTS {names} CASCADE"))
    engine.dispose()
    yield url


@pytest_asyncio.fixture
async def repository(database_url: str) -> AsyncIterator[Repository]:
    upgrade(database_url)
    engine = create_engine_async(database_url)
    try:
        yield Repository(engine)
    finally:
        await engine.dispose()


# --- a real Rasa NLU server, shared by the tests that need one -----------------------------------
@dataclass(frozen=True)
class RunningNlu:
    url: str
    token: str
    pid: int


class _ServerThread:
    """A RasaServer on an event loop of its own, so every test's loop can talk to it."""

    def __init__(self, server: RasaServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="rasa", daemon=True)

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(timeout=300)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def nlu_model(settings: Settings) -> Path:
    inputs = training_inputs(settings)
    model = current_model(inputs, settings.models_dir)
    if model is None:  # `make test` trains first; a bare `pytest` trains here (minutes)
        model, _ = train(inputs, settings.rasa_executable, settings.models_dir)
    return model


@pytest.fixture(scope="session")
def rasa_server(
    settings: Settings, nlu_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningNlu]:
    if not settings.rasa_executable.exists():
        pytest.fail(f"Rasa is not installed at {settings.rasa_executable}: run `make setup`")
    server = RasaServer(settings.rasa_executable, nlu_model, tmp_path_factory.mktemp("rasa"))
    runner = _ServerThread(server)
    runner.start()
    try:
        yield RunningNlu(server.url, server.token, server.pid or 0)
    finally:
        runner.stop()
