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
from datetime import date, datetime, timedelta

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
    if summary.pinned:
        return DateGroup(Period.PINNED)
    day = datetime.fromtimestamp(summary.updated_at).date()  # local time
    if day >= today:  # today, or a clock set back since
        return DateGroup(Period.TODAY)
    if day == today - timedelta(days=1):
        return DateGroup(Period.YESTERDAY)
    if day >= today - timedelta(days=7):
        return DateGroup(Period.PREVIOUS_7_DAYS)
    if day >= today - timedelta(days=30):
        return DateGroup(Period.PREVIOUS_30_DAYS)
    return DateGroup(Period.MONTH, day.year, day.month)


def grouped(summaries: Iterable[ConversationSummary], today: date) -> Iterator[DateGroup | ConversationSummary]:
    """The list as shown: each group's heading, then its conversations. `summaries` come
    pinned first, then newest activity first (`list_conversations`), so each group's
    conversations are next to each other."""
    current: DateGroup | None = None
    for summary in summaries:
        group = group_of(summary, today)
        if group != current:
            current = group
            yield group
        yield summary
