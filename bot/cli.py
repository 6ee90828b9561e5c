"""The ``syrlas`` command line (CONTRACT.md).

Ordinary mistakes end in one line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from bot.languages import LANGUAGES, parse_language
from bot.settings import Settings


class CommandError(RuntimeError):
    """An ordinary failure: printed as one line, exit code 1."""


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = "SYRLAS_" + "_".join(str(part) for part in problem["loc"]).upper()
        raise CommandError(f"bad setting {field}: {problem['msg']}") from exc


def _configure_logging(settings: Settings, level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or settings.log_level).upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and Bot API URLs carry the token: keep it out of logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _status(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- commands -----------------------------------------------------------------------------------
def cmd_chat(args: argparse.Namespace) -> int:
    from bot.channels.terminal import TerminalChat, terminal_user
    from bot.runtime import open_runtime

    settings = _settings()
    _configure_logging(settings, "WARNING")

    async def main() -> None:
        async with open_runtime(settings, _status) as runtime:
            await runtime.repository.purge_expired()
            user = runtime.pseudonymize("terminal", terminal_user())
            chat = TerminalChat(runtime.engine, user, interactive=sys.stdin.isatty())
            await chat.start(parse_language(args.lang), args.audience)
            await chat.run(sys.stdin)

    asyncio.run(main())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.channels.telegram.app import serve, stop_on_signals
    from bot.runtime import open_runtime

    settings = _settings()
    if settings.telegram_token is None:
        raise CommandError("SYRLAS_TELEGRAM_TOKEN is not set (without it, use `syrlas chat`)")
    if settings.webhook_url and settings.webhook_secret is None:
        raise CommandError("SYRLAS_WEBHOOK_SECRET is required with SYRLAS_WEBHOOK_URL")
    _configure_logging(settings)

    async def main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        async with open_runtime(settings, _status, consultants=True) as runtime:
            await runtime.repository.purge_expired()
            await serve(settings, runtime, stop, _status)

    asyncio.run(main())
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from bot.nlu.training import train
    from bot.runtime import training_inputs

    settings = _settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.var_dir / "train.log"
    inputs = training_inputs(settings)
    _status("checking the NLU model…")
    start = time.perf_counter()
    model, trained = train(
        inputs, settings.rasa_executable, settings.models_dir, force=args.force, log=log_path
    )
    elapsed = time.perf_counter() - start
    _status(f"{'trained in' if trained else 'up to date, checked in'} {elapsed:.1f} s: {model}")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from bot.classify import classify_lines
    from bot.runtime import engine_factory, open_nlu

    settings = _settings()
    _configure_logging(settings, "WARNING")

    async def main() -> int:
        make_engine = engine_factory(settings)
        async with open_nlu(settings, _status) as nlu:
            engine = make_engine(nlu.client, None)
            errors = await classify_lines(engine, sys.stdin, sys.stdout)
        if errors:
            first = errors[0]
            _status(
                f"syrlas: {len(errors)} input line(s) not understood; "
                f"first, line {first.line}: {first.reason}"
            )
            return 1
        return 0

    return asyncio.run(main())


def cmd_kb_check(args: argparse.Namespace) -> int:
    from bot.knowledge.check import check_knowledge_base

    settings = _settings()
    report = check_knowledge_base(
        settings.responses_dir, settings.nlu_data_dir, settings.locales_dir
    )
    for problem in report.problems:
        print(problem)
    print(
        f"{report.covered}/{report.total} topics have curated answers; "
        f"{len(report.problems)} problem(s)"
    )
    return 0 if report.ok else 1


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.storage.schema import upgrade

    settings = _settings()
    upgrade(settings.sqlalchemy_url)
    _status("database is up to date")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation import run_evaluation

    settings = _settings()
    _configure_logging(settings, "WARNING")
    return asyncio.run(run_evaluation(settings, args.data, args.report_dir, args.compare, _status))


def _tickets(settings: Settings):
    from bot.storage.database import create_engine_async, is_postgres
    from bot.storage.schema import upgrade
    from bot.storage.tickets import TicketRepository

    if not is_postgres(settings.database_url):
        upgrade(settings.sqlalchemy_url)
    return TicketRepository(create_engine_async(settings.sqlalchemy_url))


def cmd_consultant(args: argparse.Namespace) -> int:
    from bot.storage.tickets import ROLES

    settings = _settings()
    languages = [part.strip() for part in (args.languages or "kk,ru,en").split(",") if part.strip()]
    if any(parse_language(lang) is None for lang in languages) or not languages:
        raise CommandError(
            f"--languages: a comma-separated list of kk, ru, en, not {args.languages!r}"
        )
    if args.action == "add" and args.role not in ROLES:
        raise CommandError(f"--role must be one of {', '.join(ROLES)}")

    async def main() -> int:
        tickets = _tickets(settings)
        try:
            if args.action == "add":
                await tickets.add_consultant(args.telegram_id, args.role, languages)
                _status(
                    f"consultant {args.telegram_id} may act as {args.role} ({', '.join(languages)})"
                )
            elif args.action == "remove":
                member = await tickets.consultant(args.telegram_id)
                if member is None or member.role not in ROLES:
                    raise CommandError(f"{args.telegram_id} is not a registered consultant")
                if not await tickets.remove_consultant(args.telegram_id):
                    raise CommandError(f"{args.telegram_id} is not a registered consultant")
                _status(f"consultant {args.telegram_id} removed")
            else:
                for consultant in await tickets.consultants():
                    if consultant.role not in ROLES:
                        continue  # agency members: `syrlas agency list`
                    print(
                        f"{consultant.telegram_id}\t{consultant.role}\t"
                        f"{','.join(consultant.languages)}\t{consultant.display_name or ''}"
                    )
            return 0
        finally:
            await tickets.engine.dispose()

    return asyncio.run(main())


def cmd_agency(args: argparse.Namespace) -> int:
    from bot.safety.reports import AGENCY_ROLE

    settings = _settings()

    async def main() -> int:
        tickets = _tickets(settings)
        try:
            if args.action == "add":
                await tickets.add_consultant(args.telegram_id, AGENCY_ROLE, [])
                _status(f"{args.telegram_id} may confirm reports in the agency chat")
            elif args.action == "remove":
                member = await tickets.consultant(args.telegram_id)
                if member is None or member.role != AGENCY_ROLE:
                    raise CommandError(f"{args.telegram_id} is not a registered agency member")
                await tickets.remove_consultant(args.telegram_id)
                _status(f"agency member {args.telegram_id} removed")
            else:
                for member in await tickets.consultants():
                    if member.role == AGENCY_ROLE:
                        print(f"{member.telegram_id}\t{member.display_name or ''}")
            return 0
        finally:
            await tickets.engine.dispose()

    return asyncio.run(main())


def cmd_stats(args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.escalation.stats import TicketStats

    settings = _settings()
    since = None
    if args.since:
        try:
            since = dt.date.fromisoformat(args.since)
        except ValueError as exc:
            raise CommandError(f"--since: a date like 2026-11-01, not {args.since!r}") from exc

    async def main() -> TicketStats:
        tickets = _tickets(settings)
        try:
            start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC) if since else None
            return TicketStats.compute(await tickets.all_since(start), since)
        finally:
            await tickets.engine.dispose()

    stats = asyncio.run(main())
    if args.plot:
        stats.plot(Path(args.plot))
        _status(f"plot written to {args.plot}")
    else:
        print(
            stats.csv() if args.format == "csv" else stats.table(),
            end="" if args.format == "csv" else "\n",
        )
    return 0


# --- parser -------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syrlas", description="Syrlas: an anonymous health confidant (see README)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.set_defaults(handler=handler)
        return sub

    add("run", cmd_run, "serve Telegram (polling or webhook, from the settings)")
    chat = add("chat", cmd_chat, "the bot in the terminal, one user, stdin/stdout")
    chat.add_argument("--lang", choices=[lang.value for lang in LANGUAGES])
    chat.add_argument("--audience", choices=["teen", "parent"])
    train = add("train", cmd_train, "train the Rasa NLU model; skip when nothing changed")
    train.add_argument("--force", action="store_true", help="train even if a model is cached")
    add("classify", cmd_classify, "stdin JSONL in, stdout JSONL out")
    evaluate = add("eval", cmd_eval, "NLU quality report per language on the held-out set")
    evaluate.add_argument(
        "--data", default=None, help="held-out folder (default tests/data/heldout)"
    )
    evaluate.add_argument(
        "--report-dir", default="reports", help="where nlu-eval.md and confusion.png go"
    )
    evaluate.add_argument(
        "--compare",
        choices=["keyword", "all"],
        default=None,
        help="also evaluate a keyword baseline ('keyword'), and Rasa's default pipeline ('all', "
        "trained once and cached: about 20 minutes on two cores)",
    )

    kb = commands.add_parser("kb", help="the knowledge base")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    kb_check = kb_commands.add_parser("check", help="validate the knowledge base")
    kb_check.set_defaults(handler=cmd_kb_check)

    consultant = commands.add_parser("consultant", help="who may answer escalations")
    consultant_commands = consultant.add_subparsers(
        dest="consultant_command", required=True, metavar="ACTION"
    )
    add_consultant = consultant_commands.add_parser("add", help="register a consultant")
    add_consultant.add_argument("telegram_id", type=int)
    add_consultant.add_argument("--languages", default="kk,ru,en", help="e.g. kk,ru")
    add_consultant.add_argument("--role", default="doctor", help="doctor, psychologist or lawyer")
    add_consultant.set_defaults(handler=cmd_consultant, action="add")
    remove_consultant = consultant_commands.add_parser("remove", help="unregister a consultant")
    remove_consultant.add_argument("telegram_id", type=int)
    remove_consultant.set_defaults(handler=cmd_consultant, action="remove", languages=None)
    list_consultants = consultant_commands.add_parser("list", help="registered consultants")
    list_consultants.set_defaults(handler=cmd_consultant, action="list", languages=None)

    agency = commands.add_parser("agency", help="who may confirm reports in the agency chat")
    agency_commands = agency.add_subparsers(dest="agency_command", required=True, metavar="ACTION")
    for action, help_ in (("add", "register a member"), ("remove", "unregister a member")):
        sub = agency_commands.add_parser(action, help=help_)
        sub.add_argument("telegram_id", type=int)
        sub.set_defaults(handler=cmd_agency, action=action)
    agency_commands.add_parser("list", help="registered members").set_defaults(
        handler=cmd_agency, action="list"
    )

    stats = add("stats", cmd_stats, "ticket numbers for the programme (aggregated)")
    stats.add_argument("--since", help="first day, e.g. 2026-11-01")
    stats.add_argument("--format", choices=["table", "csv"], default="table")
    stats.add_argument("--plot", metavar="FILE.png", help="draw the numbers instead")

    db = commands.add_parser("db", help="the database")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_upgrade = db_commands.add_parser("upgrade", help="apply database migrations (Alembic)")
    db_upgrade.set_defaults(handler=cmd_db_upgrade)
    return parser


def _expected_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.knowledge.base import KnowledgeBaseError
    from bot.nlu.client import NluUnavailable
    from bot.nlu.server import NluServerError
    from bot.nlu.training import TrainingFailed
    from bot.runtime import SetupError
    from bot.storage.database import DatabaseConfigError
    from bot.storage.errors import StorageUnavailable

    return (
        CommandError,
        SetupError,
        KnowledgeBaseError,
        NluUnavailable,
        NluServerError,
        TrainingFailed,
        DatabaseConfigError,
        StorageUnavailable,
        SQLAlchemyError,
        OSError,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except _expected_errors() as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"syrlas: error: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
