"""Partial ISO dates whose length is their precision: '2011', '2011-10', '2011-10-12'.

A partial date names a period. Comparisons used for knowledge are conservative: a fact dated
'2011-12' counts as known only once the whole of December 2011 has passed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

MONTHS = [calendar.month_name[i] for i in range(1, 13)]


class DateError(ValueError):
    """A string that is not a partial ISO date."""


def parse(text: object) -> tuple[int, int | None, int | None]:
    """Split a partial date into (year, month or None, day or None); raise DateError if invalid."""
    if not isinstance(text, str):
        raise DateError(f"{text!r} is not a date (write it as a quoted string such as '2011-10')")
    m = _PATTERN.match(text)
    if not m:
        raise DateError(f"{text!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if month is not None and not 1 <= month <= 12:
        raise DateError(f"{text!r} is not a date (month {month} does not exist)")
    if day is not None:
        assert month is not None
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise DateError(f"{text!r} is not a date (day {day} does not exist in that month)")
    return year, month, day


def precision(text: str) -> str:
    """'year', 'month' or 'day'."""
    _, month, day = parse(text)
    return "day" if day else "month" if month else "year"


def start(text: str) -> dt.date:
    """The first day of the period the partial date names."""
    year, month, day = parse(text)
    return dt.date(year, month or 1, day or 1)


def end(text: str) -> dt.date:
    """The last day of the period the partial date names."""
    year, month, day = parse(text)
    if day:
        return dt.date(year, month, day)  # type: ignore[arg-type]
    if month:
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date(year, 12, 31)


def label(text: str) -> str:
    """A plain-English label at the date's own precision: '2011', 'October 2011', '12 October 2011'."""
    year, month, day = parse(text)
    if day:
        assert month is not None  # parse() gives a day only with a month
        return f"{day} {MONTHS[month - 1]} {year}"
    if month:
        return f"{MONTHS[month - 1]} {year}"
    return str(year)


def as_date(value: str | dt.date) -> dt.date:
    """Accept a full ISO date string or a date; a partial date string means the end of its period."""
    if isinstance(value, dt.date):
        return value
    return end(value)


_HAS_YEAR = re.compile(r"\b(1[89]|20)\d\d\b|[’']\d\d\b")
_ENDS_WITH_MONTH = re.compile(r"\b(" + "|".join(MONTHS) + r")$")


def with_year(date_text: str, date: str) -> str:
    """The source's own wording of a date, with its year when the wording has none: '21 October' becomes
    '21 October 2011', 'mid-December' 'mid-December 2011', 'the following day' 'the following day (2012)'.
    Never more precise than the partial date: only its year is added."""
    if not date or _HAS_YEAR.search(date_text):
        return date_text
    year = date[:4]
    return f"{date_text} {year}" if _ENDS_WITH_MONTH.search(date_text) else f"{date_text} ({year})"
