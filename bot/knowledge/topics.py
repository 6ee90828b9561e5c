"""The topic taxonomy: stable ids, who mostly asks, and what the bot does once it is sure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml


class Route(StrEnum):
    ANSWER = "answer"
    URGENT = "urgent"
    CRISIS = "crisis"
    REPORT = "report"
    HANDOFF = "handoff"
    META = "meta"
    CLARIFY = "clarify"
    ESCALATE = "escalate"


TOPIC_ROUTES = frozenset(
    {Route.ANSWER, Route.URGENT, Route.CRISIS, Route.REPORT, Route.HANDOFF, Route.META}
)
AUDIENCES = ("teen", "parent", "any")


@dataclass(frozen=True)
class Topic:
    id: str
    audience: str
    route: Route
    scope: str

    @property
    def is_health(self) -> bool:
        """Topics that carry medical or safety content and therefore must cite sources."""
        return self.route in (Route.ANSWER, Route.URGENT, Route.CRISIS)


class TaxonomyError(ValueError):
    pass


def load_taxonomy(path: Path) -> dict[str, Topic]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    topics: dict[str, Topic] = {}
    for entry in raw.get("topics", []):
        topic_id = entry["id"]
        if topic_id in topics:
            raise TaxonomyError(f"{path.name}: topic {topic_id!r} appears twice")
        route = Route(entry["route"])
        if route not in TOPIC_ROUTES:
            raise TaxonomyError(f"{path.name}: topic {topic_id!r} has route {route}")
        if entry["audience"] not in AUDIENCES:
            raise TaxonomyError(f"{path.name}: topic {topic_id!r} has audience {entry['audience']}")
        topics[topic_id] = Topic(topic_id, entry["audience"], route, entry.get("scope", ""))
    return topics
