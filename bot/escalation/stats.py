"""Numbers a programme manager needs, aggregated and never per person."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.storage.tickets import ACTIVE, TicketRecord


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    # nearest-rank: the smallest value with at least q of the data at or below it
    rank = max(1, int(-(-q * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]


def _minutes(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 60


@dataclass(frozen=True)
class TicketStats:
    since: dt.date | None
    total: int
    per_day: dict[str, Counter]  # "topic" | "language" | "priority" -> Counter[(day, value)]
    first_response_median: float | None  # minutes
    first_response_p90: float | None
    close_median: float | None
    close_p90: float | None
    backlog: Counter  # open tickets by priority
    ratings: Counter  # stars -> count
    rating_mean: float | None

    @classmethod
    def compute(cls, tickets: list[TicketRecord], since: dt.date | None) -> TicketStats:
        per_day: dict[str, Counter] = {
            "topic": Counter(),
            "language": Counter(),
            "priority": Counter(),
        }
        for ticket in tickets:
            day = ticket.created_at.date().isoformat()
            per_day["topic"][(day, ticket.topic or "-")] += 1
            per_day["language"][(day, ticket.language)] += 1
            per_day["priority"][(day, ticket.opened_priority)] += 1
        first = [m for t in tickets if (m := _minutes(t.created_at, t.answered_at)) is not None]
        close = [m for t in tickets if (m := _minutes(t.created_at, t.closed_at)) is not None]
        ratings = Counter(t.rating for t in tickets if t.rating)
        rated = [t.rating for t in tickets if t.rating]
        return cls(
            since=since,
            total=len(tickets),
            per_day=per_day,
            first_response_median=statistics.median(first) if first else None,
            first_response_p90=_percentile(first, 0.9),
            close_median=statistics.median(close) if close else None,
            close_p90=_percentile(close, 0.9),
            backlog=Counter(t.priority for t in tickets if t.status in ACTIVE),
            ratings=ratings,
            rating_mean=statistics.fmean(rated) if rated else None,
        )

    # --- output ----------------------------------------------------------------------------
    def rows(self) -> list[tuple[str, str, str, str]]:
        """(section, key, value, count-or-figure): one flat shape for both table and CSV."""
        out: list[tuple[str, str, str, str]] = [("total", "tickets", "", str(self.total))]
        for dimension, counter in self.per_day.items():
            for (day, value), count in sorted(counter.items()):
                out.append((f"per day by {dimension}", day, value, str(count)))

        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        out += [
            ("minutes to first response", "median", "", fmt(self.first_response_median)),
            ("minutes to first response", "p90", "", fmt(self.first_response_p90)),
            ("minutes to close", "median", "", fmt(self.close_median)),
            ("minutes to close", "p90", "", fmt(self.close_p90)),
        ]
        for priority in ("crisis", "urgent", "normal"):
            out.append(("open backlog", priority, "", str(self.backlog.get(priority, 0))))
        for stars in range(1, 6):
            out.append(("rating", f"{stars} stars", "", str(self.ratings.get(stars, 0))))
        out.append(("rating", "mean", "", fmt(self.rating_mean)))
        return out

    def table(self) -> str:
        header = ("section", "key", "value", "n")
        rows = [header, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["section", "key", "value", "n"])
        writer.writerows(self.rows())
        return buffer.getvalue()

    def plot(self, path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")  # no screen on servers
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
        for axis, dimension in zip(axes, ("priority", "language", "topic"), strict=True):
            counter = self.per_day[dimension]
            days = sorted({day for day, _ in counter})
            values = sorted(
                {value for _, value in counter},
                key=lambda v: -sum(c for (_, x), c in counter.items() if x == v),
            )
            shown = values[:8]
            bottom = [0] * len(days)
            for value in shown:
                heights = [counter.get((day, value), 0) for day in days]
                axis.bar(days, heights, bottom=bottom, label=value)
                bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
            axis.set_title(f"tickets per day by {dimension}")
            axis.tick_params(axis="x", rotation=45)
            if shown:
                axis.legend(fontsize="small")
        median = self.first_response_median
        shown_median = "-" if median is None else f"{median:.0f}"
        figure.suptitle(f"Syrlas tickets: {self.total}; first response median {shown_median} min")
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
