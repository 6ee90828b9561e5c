"""Running our own Rasa NLU server: start, wait until ready, warm up, restart on death, stop.

The server is a child process in its own process group. It dies with us even on SIGKILL
(``PR_SET_PDEATHSIG``), and ``stop()`` ends the whole group, so no Rasa process is ever orphaned.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import secrets
import signal
import socket
import time
from pathlib import Path

from bot.nlu.client import NluUnavailable, RasaClient
from bot.nlu.training import rasa_environment

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
WARM_UP_TEXTS = ("привет", "сәлем", "hello", "у меня болят месячные")


class NluServerError(RuntimeError):
    pass


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RasaServer:
    """A supervised ``rasa run --enable-api`` on a free loopback port."""

    def __init__(
        self,
        rasa: Path,
        model: Path,
        workdir: Path,
        *,
        start_timeout: float = 180.0,
        parse_timeout: float = 5.0,
        max_restarts: int = 5,
    ) -> None:
        self.rasa = rasa
        self.model = model
        self.workdir = workdir
        self.start_timeout = start_timeout
        self.parse_timeout = parse_timeout
        self.max_restarts = max_restarts
        self.port = free_loopback_port()
        # Hex, never a leading "-" that Rasa's argument parser would take for an option.
        self.token = secrets.token_hex(24)
        self.restarts = 0
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def client(self) -> RasaClient:
        return RasaClient(self.url, self.token, timeout=self.parse_timeout)

    async def start(self) -> None:
        if not self.rasa.exists():
            raise NluServerError(f"Rasa is not installed at {self.rasa}: run `make setup`")
        if not self.model.exists():
            raise NluServerError(f"no trained model at {self.model}: run `syrlas train`")
        self._stopping = False
        await self._spawn_and_wait()
        self._supervisor = asyncio.create_task(self._supervise(), name="rasa-supervisor")

    async def _spawn_and_wait(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_file = (self.workdir / "rasa.log").open("ab")
        try:
            self._process = await asyncio.create_subprocess_exec(
                str(self.rasa),
                "run",
                "--enable-api",
                "--model",
                str(self.model),
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.port),
                f"--auth-token={self.token}",
                cwd=str(self.workdir),
                env=rasa_environment(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            log_file.close()
        log.info("nlu server starting", extra={"pid": self._process.pid, "port": self.port})
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        client = self.client()
        deadline = time.monotonic() + self.start_timeout
        try:
            while time.monotonic() < deadline:
                if self._process is None or self._process.returncode is not None:
                    raise NluServerError(
                        f"the NLU server exited during start-up (see {self.workdir / 'rasa.log'})"
                    )
                if await client.is_ready():
                    for text in WARM_UP_TEXTS:  # the first parses are slow: pay for them now
                        with contextlib.suppress(NluUnavailable):
                            await client.parse(text)
                    return
                await asyncio.sleep(0.5)
        finally:
            await client.aclose()
        await self._terminate()
        raise NluServerError(f"the NLU server was not ready after {self.start_timeout:.0f} s")

    async def _supervise(self) -> None:
        while not self._stopping:
            process = self._process
            if process is None:
                return
            code = await process.wait()
            if self._stopping:
                return
            self._kill_group(process.pid, signal.SIGKILL)  # leftovers of the dead server
            if self.restarts >= self.max_restarts:
                log.error("nlu server died %d times; not restarting", self.restarts)
                return
            self.restarts += 1
            log.warning("nlu server exited with %s; restarting (%d)", code, self.restarts)
            await asyncio.sleep(min(2.0 * self.restarts, 10.0))
            try:
                await self._spawn_and_wait()
            except NluServerError as exc:
                log.error("nlu server restart failed: %s", exc)

    @staticmethod
    def _kill_group(pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    async def _terminate(self) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            self._kill_group(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                self._kill_group(process.pid, signal.SIGKILL)
                await process.wait()
        self._kill_group(process.pid, signal.SIGKILL)  # anything it left in its group

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._terminate()

    async def __aenter__(self) -> RasaServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
