"""How escalation behaves, from the settings and responses/: pools, hours, waits, roles."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.escalation.hours import WorkingHours
from bot.storage.tickets import ROLES

# A ticket nobody took within its wait is re-announced one step more urgent.
RAISE = {"normal": "urgent", "urgent": "crisis", "crisis": "crisis"}
DEFAULT_WAITS = {"normal": 30, "urgent": 15, "crisis": 5}  # minutes
DEFAULT_ROLE = "doctor"


@dataclass(frozen=True)
class RoleMap:
    """Which pool (doctor, psychologist, lawyer) a topic's tickets are meant for."""

    by_topic: dict[str, str]
    default: str = DEFAULT_ROLE

    @classmethod
    def load(cls, path: Path) -> RoleMap:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        default = raw.get("default", DEFAULT_ROLE)
        by_topic: dict[str, str] = {}
        for role, topics in (raw.get("pools") or {}).items():
            if role not in ROLES:
                raise ValueError(f"{path.name}: unknown role {role!r} (one of {', '.join(ROLES)})")
            for topic in topics or []:
                by_topic[topic] = role
        if default not in ROLES:
            raise ValueError(f"{path.name}: unknown default role {default!r}")
        return cls(by_topic, default)

    def role(self, topic: str | None) -> str:
        return self.by_topic.get(topic or "", self.default)


@dataclass(frozen=True)
class EscalationPolicy:
    hours: dict[str, WorkingHours]  # per role; "default" for the rest
    waits: dict[str, dt.timedelta] = field(
        default_factory=lambda: {p: dt.timedelta(minutes=m) for p, m in DEFAULT_WAITS.items()}
    )
    answer_within_hours: int = 4  # what the user is told to expect, in working hours
    reopen_window: dt.timedelta = dt.timedelta(days=1)
    lease: dt.timedelta = dt.timedelta(seconds=60)

    def hours_for(self, role: str) -> WorkingHours:
        return self.hours.get(role) or self.hours["default"]

    @classmethod
    def from_settings(
        cls,
        hours: dict[str, str],
        zone: str,
        waits_minutes: dict[str, int],
        answer_within_hours: int,
    ) -> EscalationPolicy:
        parsed = {pool: WorkingHours.parse(spec, zone) for pool, spec in hours.items()}
        if "default" not in parsed:
            parsed["default"] = WorkingHours.parse("always", zone)
        waits = {p: dt.timedelta(minutes=m) for p, m in {**DEFAULT_WAITS, **waits_minutes}.items()}
        return cls(parsed, waits, answer_within_hours)
