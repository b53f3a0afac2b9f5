"""Which heading of the conversation list a conversation sits under: Pinned, Today,
Yesterday, Previous 7 days, Previous 30 days, then one per month.

Dates are the local calendar's (a conversation from 23:30 yesterday is "Yesterday" at
00:10 today). The GUI names each group in the user's language (`DateGroup` holds no text:
a month's name comes from the locale).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.conversations.store import ConversationSummary


class Period(enum.Enum):
    PINNED = "pinned"
    TODAY = "today"
    YESTERDAY = "yesterday"
    PREVIOUS_7_DAYS = "previous_7_days"
    PREVIOUS_30_DAYS = "previous_30_days"
    MONTH = "month"  # DateGroup.year and .month say which


@dataclass(frozen=True)
class DateGroup:
    period: Period
    year: int = 0
    month: int = 0


def group_of(summary: ConversationSummary, today: date) -> DateGroup:
    """The heading `summary` belongs under on the local date `today`."""
    return _Edges(today).group(summary)


def grouped(summaries: Iterable[ConversationSummary], today: date) -> Iterator[DateGroup | ConversationSummary]:
    """The list as shown: each group's heading, then its conversations. `summaries` come
    pinned first, then newest activity first (`list_conversations`), so each group's
    conversations are next to each other."""
    edges, current = _Edges(today), None
    for summary in summaries:
        group = edges.group(summary)
        if group != current:
            current = group
            yield group
        yield summary


class _Edges:
    """The local midnights where the headings change, worked out once for a whole list: a
    date per conversation cost 0.45 s for 50,000 of them, on the GUI thread at each refresh (0.10 s now)."""

    def __init__(self, today: date) -> None:
        self.today, self.yesterday = _midnight(today), _midnight(today - timedelta(days=1))
        self.week, self.month = _midnight(today - timedelta(days=7)), _midnight(today - timedelta(days=30))
        self._month_group, self._month_from, self._month_until = DateGroup(Period.MONTH), 0.0, 0.0

    def group(self, summary: ConversationSummary) -> DateGroup:
        at = summary.updated_at
        if summary.pinned:
            return DateGroup(Period.PINNED)
        if at >= self.today:  # today, or a clock set back since
            return DateGroup(Period.TODAY)
        if at >= self.yesterday:
            return DateGroup(Period.YESTERDAY)
        if at >= self.week:
            return DateGroup(Period.PREVIOUS_7_DAYS)
        if at >= self.month:
            return DateGroup(Period.PREVIOUS_30_DAYS)
        if not self._month_from <= at < self._month_until:  # the list runs newest first: a new month
            day = datetime.fromtimestamp(at).date()  # local time
            first = day.replace(day=1)
            self._month_from, self._month_until = _midnight(first), _midnight((first + timedelta(days=32)).replace(day=1))
            self._month_group = DateGroup(Period.MONTH, day.year, day.month)
        return self._month_group


def _midnight(day: date) -> float:
    """The first moment of `day`, local time, as a timestamp."""
    return datetime.combine(day, time()).timestamp()
