"""Wiring: build the parts a command needs from the settings, and close them cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bot.dialogue.compose import Composer
from bot.dialogue.engine import ConversationStore, Engine
from bot.escalation.canned import CannedReplies
from bot.escalation.desk import TicketDesk
from bot.escalation.policy import EscalationPolicy, RoleMap
from bot.escalation.workspace import Workspace
from bot.i18n import Catalogs
from bot.knowledge.base import KnowledgeBase, load_knowledge_base
from bot.languages import parse_language
from bot.nlu.client import NluParser, RasaClient
from bot.nlu.safety_sets import development_sets
from bot.nlu.server import RasaServer
from bot.nlu.training import TrainingInputs, current_model
from bot.safety.crisis import CrisisLexicon
from bot.safety.pseudonyms import Pseudonymizer
from bot.safety.reports import AgencyDesk, Regions, ReportDesk
from bot.safety.sealing import ChatSeal
from bot.safety.secret_key import SecretKeyMissing, load_or_create_secret_key
from bot.settings import Settings
from bot.storage.database import create_engine_async, is_postgres
from bot.storage.reports import ReportRepository
from bot.storage.repository import Repository
from bot.storage.schema import upgrade
from bot.storage.tickets import TicketRepository
from bot.storage.traces import TraceRepository

log = logging.getLogger(__name__)


class SetupError(RuntimeError):
    """Something the operator must fix; the message says what (shown without a traceback)."""


def training_inputs(settings: Settings) -> TrainingInputs:
    return TrainingInputs(
        config=settings.nlu_config,
        nlu_data=settings.nlu_data_dir,
        rasa_lock=settings.home / "nlu-requirements.lock",
        safety_sets=development_sets(settings.home / "tests" / "data"),
    )


@dataclass
class Nlu:
    client: RasaClient
    server: RasaServer | None  # None when SYRLAS_NLU_URL points at someone else's server


@contextlib.asynccontextmanager
async def open_nlu(
    settings: Settings, on_status: Callable[[str], None] = lambda _: None
) -> AsyncIterator[Nlu]:
    """The configured Rasa server, or our own one started for the duration of the block."""
    if settings.nlu_url:
        token = settings.nlu_token.get_secret_value() if settings.nlu_token else None
        client = RasaClient(settings.nlu_url, token, timeout=settings.nlu_timeout)
        try:
            yield Nlu(client, None)
        finally:
            await client.aclose()
        return
    model = current_model(training_inputs(settings), settings.models_dir)
    if model is None:
        raise SetupError(
            "no NLU model for the current nlu_data/ and config.yml: run `syrlas train`"
        )
    server = RasaServer(
        settings.rasa_executable,
        model,
        settings.var_dir / "rasa",
        start_timeout=settings.nlu_start_timeout,
        parse_timeout=settings.nlu_timeout,
    )
    on_status("starting the language understanding server (about 15 s)…")
    try:
        await server.start()
    except Exception as exc:
        await server.stop()
        raise SetupError(str(exc)) from exc
    client = server.client()
    try:
        yield Nlu(client, server)
    finally:
        await client.aclose()
        await server.stop()


def load_content(settings: Settings) -> tuple[KnowledgeBase, Catalogs]:
    try:
        return load_knowledge_base(settings.responses_dir), Catalogs(settings.locales_dir)
    except Exception as exc:  # invalid content or missing catalogs: an operator's fix
        raise SetupError(str(exc)) from exc


def load_crisis_lexicon(settings: Settings) -> CrisisLexicon:
    try:
        return CrisisLexicon.load(settings.responses_dir / "crisis_lexicon.yml")
    except Exception as exc:  # a broken lexicon must stop the bot: it is a safety net
        raise SetupError(f"crisis_lexicon.yml: {exc}") from exc


EngineFactory = Callable[..., Engine]


def engine_factory(
    settings: Settings, content: tuple[KnowledgeBase, Catalogs] | None = None
) -> EngineFactory:
    """Load the content once (failing early if it is broken); build engines over any NLU."""
    knowledge, catalogs = content or load_content(settings)
    crisis = load_crisis_lexicon(settings)

    def make(
        nlu: NluParser,
        store: ConversationStore | None = None,
        desk: TicketDesk | None = None,
        report_desk: ReportDesk | None = None,
    ) -> Engine:
        return Engine(
            knowledge=knowledge,
            nlu=nlu,
            catalogs=catalogs,
            store=store,
            crisis=crisis,
            # Without a desk (`syrlas classify`) a configured consultants' chat still counts.
            consultants_available=settings.consultants_chat_id is not None,
            desk=desk,
            report_desk=report_desk,
            rate_limit=settings.rate_limit_per_minute,
        )

    return make


def escalation_policy(settings: Settings) -> EscalationPolicy:
    try:
        return EscalationPolicy.from_settings(
            settings.consultant_hours,
            settings.timezone,
            settings.ticket_wait_minutes,
            settings.answer_within_hours,
        )
    except ValueError as exc:
        raise SetupError(f"SYRLAS_CONSULTANT_HOURS / SYRLAS_TIMEZONE: {exc}") from exc


def load_escalation_content(settings: Settings) -> tuple[RoleMap, CannedReplies]:
    try:
        return (
            RoleMap.load(settings.responses_dir / "consultant_roles.yml"),
            CannedReplies.load(settings.responses_dir / "canned.yml"),
        )
    except Exception as exc:
        raise SetupError(f"responses/: {exc}") from exc


@dataclass
class Reporting:
    desk: ReportDesk  # the user's side, for the dialogue
    agency: AgencyDesk  # the agency chat's side
    chat_id: int


def load_regions(settings: Settings) -> Regions:
    try:
        return Regions.load(settings.responses_dir / "regions.yml")
    except Exception as exc:
        raise SetupError(f"responses/regions.yml: {exc}") from exc


def open_reporting(settings: Settings, database, catalogs: Catalogs) -> Reporting | None:
    if settings.reports_chat_id is None:
        return None
    language = parse_language(settings.reports_language)
    if language is None:
        raise SetupError("SYRLAS_REPORTS_LANGUAGE must be one of kk, ru, en")
    regions = load_regions(settings)
    reports = ReportRepository(database)
    return Reporting(
        ReportDesk(reports, regions),
        AgencyDesk(reports, TicketRepository(database), regions, catalogs, language),
        settings.reports_chat_id,
    )


@dataclass
class Escalation:
    tickets: TicketRepository
    desk: TicketDesk
    workspace: Workspace
    seal: ChatSeal
    chat_id: int  # the consultants' supergroup


def open_escalation(
    settings: Settings, database, engine_catalogs, knowledge, secret: bytes
) -> Escalation | None:
    if settings.consultants_chat_id is None:
        return None
    policy = escalation_policy(settings)
    roles, canned = load_escalation_content(settings)
    tickets = TicketRepository(database)
    language = parse_language(settings.consultants_language)
    if language is None:
        raise SetupError("SYRLAS_CONSULTANTS_LANGUAGE must be one of kk, ru, en")
    workspace = Workspace(
        tickets, policy, engine_catalogs, Composer(knowledge), canned, language=language
    )
    return Escalation(
        tickets,
        TicketDesk(tickets, policy, roles),
        workspace,
        ChatSeal(secret),
        settings.consultants_chat_id,
    )


def secret_key(settings: Settings) -> bytes:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    try:
        return load_or_create_secret_key(
            secret, settings.var_dir, production=is_postgres(settings.database_url)
        )
    except SecretKeyMissing as exc:
        raise SetupError(str(exc)) from exc


def pseudonymizer(settings: Settings) -> Pseudonymizer:
    return Pseudonymizer(secret_key(settings))


@dataclass
class Runtime:
    engine: Engine
    repository: Repository
    nlu: Nlu
    pseudonymize: Pseudonymizer
    seal: ChatSeal  # chat ids at rest: encrypted
    traces: TraceRepository  # discreet mode
    escalation: Escalation | None = None  # consultants connected (Telegram only)
    reporting: Reporting | None = None  # an agency chat connected (Telegram only)


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    on_status: Callable[[str], None] = lambda _: None,
    *,
    consultants: bool = False,
) -> AsyncIterator[Runtime]:
    """``consultants``: connect the consultants' chat (only a channel that can relay their
    answers back, Telegram, asks for it)."""
    knowledge, catalogs = load_content(settings)
    make_engine = engine_factory(settings, (knowledge, catalogs))
    key = secret_key(settings)
    pseudonymize = Pseudonymizer(key)
    if not is_postgres(settings.database_url):
        # The embedded SQLite file is created and migrated on first run; PostgreSQL is migrated
        # by the operator (`syrlas db upgrade`), once per release, not by every bot process.
        await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    database = create_engine_async(settings.sqlalchemy_url)
    repository = Repository(
        database,
        message_ttl=dt.timedelta(days=settings.message_retention_days),
        ticket_ttl=dt.timedelta(days=settings.ticket_retention_days),
    )
    try:
        escalation = (
            open_escalation(settings, database, catalogs, knowledge, key) if consultants else None
        )
        reporting = open_reporting(settings, database, catalogs) if consultants else None
        async with open_nlu(settings, on_status) as nlu:
            engine = make_engine(
                nlu.client,
                repository,
                escalation.desk if escalation else None,
                reporting.desk if reporting else None,
            )
            if not consultants:
                engine.consultants_available = False
            yield Runtime(
                engine,
                repository,
                nlu,
                pseudonymize,
                ChatSeal(key),
                TraceRepository(database),
                escalation,
                reporting,
            )
    finally:
        await database.dispose()
