"""When a promised follow-up is due: the promise's time phrase resolved against the call's date.

"within two days", "by Friday", "tomorrow", "in 3 to 5 working days", "by the end of the week",
"next Tuesday", "on the 15th", "by the 3rd of June" become a calendar date; a phrase that names no
day ("shortly", "in a moment", "at 5 pm" alone) is due the day of the call when it names an hour or
a part of the day, else it has no date. Qt-free and clock-free: the call's date is always given, so
the tests use fixed dates.

Conventions (stated, since a phrase is often ambiguous):
- "by/on <weekday>" is the next such day after the call's day (a promise made on a Friday "by
  Friday" means the next Friday: nobody promises the same day by naming it);
- "next <weekday>" is that day in the week after the call's week (Monday-based weeks);
- "within/in N days/weeks/months" is the end of that span (the latest day the promise allows);
  "N to M" takes M; "working/business days" skip Saturdays and Sundays;
- "within/in N hours" is the day the hours end, counted from the end of the call's day at the
  latest (48 hours: two days later);
- "end of the week" is the call week's Friday (its Sunday when said at the weekend), "end of the
  month" the month's last day, "next week" the next Monday.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from .phrases import normalize

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
HOURS_PER_DAY = 24
WORK_WEEK_END = 4  # Friday (date.weekday()): "the end of the week" for a working promise
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30,
    "twenty four": 24, "forty eight": 48, "seventy two": 72, "a couple of": 2, "couple of": 2, "a few": 3, "few": 3,
}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
_NUM = r"(\d+|" + "|".join(sorted((re.escape(k) for k in _NUMBERS), key=len, reverse=True)) + r")"
_DAY = r"(" + "|".join(DAYS) + r")"
_MONTH = r"(" + "|".join(MONTHS) + r")"
_ORD = r"(\d{1,2})(?:st|nd|rd|th)|(" + "|".join(_ORDINALS) + r")"

_SPAN = re.compile(r"\b(?:within|in|over|after|inside)\s+(?:the\s+)?(?:next\s+)?(?:about\s+|around\s+|roughly\s+)?" + _NUM
                   + r"(?:\s+to\s+" + _NUM + r")?\s+(business\s+|working\s+)?(hours?|days?|weeks?|months?)\b")
_BARE_SPAN = re.compile(r"\b" + _NUM + r"(?:\s+to\s+" + _NUM + r")?\s+(business\s+|working\s+)?(days?|weeks?)\b")
_NEXT_DAY = re.compile(r"\bnext\s+" + _DAY + r"\b")
_ON_DAY = re.compile(r"\b" + _DAY + r"\b")
_ORD_OF_MONTH = re.compile(r"\b(?:the\s+)?(?:" + _ORD + r")\s+of\s+" + _MONTH + r"\b")
_MONTH_ORD = re.compile(r"\b" + _MONTH + r"\s+(?:the\s+)?(?:" + _ORD + r"|(\d{1,2}))\b")
_THE_ORD = re.compile(r"\b(?:by|on|before|until)\s+the\s+(?:" + _ORD + r")\b")
_SAME_DAY = re.compile(r"\b(?:today|tonight|this (?:afternoon|evening|morning)|later today|end of (?:the )?day|close of "
                       r"(?:business|play|the day)|within the hour|in the next hour|right now|straight away|first thing today|"
                       r"\d{1,2}(?: \d\d)? ?(?:am|pm|oclock|o clock)|noon|midday)\b")


def _number(word: str | None) -> int | None:
    if word is None:
        return None
    return int(word) if word.isdigit() else _NUMBERS.get(word)


def _ordinal(digits: str | None, word: str | None) -> int | None:
    if digits:
        return int(digits)
    return _ORDINALS.get(word or "")


def _add_working_days(start: date, n: int) -> date:
    d = start
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _add_months(start: date, n: int) -> date:
    month = start.month - 1 + n
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _next_weekday(start: date, weekday: int) -> date:
    """The first `weekday` strictly after `start`."""
    return start + timedelta(days=(weekday - start.weekday() - 1) % 7 + 1)


def _day_of_month(start: date, day: int, month: int | None = None) -> date | None:
    """The first date on or after `start` with that day (and month); None when no such day exists."""
    for k in range(0, 13):
        year, m = divmod(start.month - 1 + k, 12)
        year, m = start.year + year, m + 1
        if month is not None and m != month:
            continue
        if day > calendar.monthrange(year, m)[1]:
            continue
        d = date(year, m, day)
        if d >= start:
            return d
    return None


def resolve_due(phrase: str, call_date: date) -> date | None:
    """The date a follow-up promised with `phrase` ("within two days", "by Friday") is due; None if it names none."""
    s = normalize(phrase)
    if not s:
        return None
    if re.search(r"\bday after tomorrow\b", s):
        return call_date + timedelta(days=2)
    if re.search(r"\btomorrow\b", s):
        return call_date + timedelta(days=1)
    m = _ORD_OF_MONTH.search(s)
    if m:
        day = _ordinal(m.group(1), m.group(2))
        return _day_of_month(call_date, day, MONTHS.index(m.group(3)) + 1) if day else None
    m = _MONTH_ORD.search(s)
    if m:
        day = _ordinal(m.group(2), m.group(3)) or (int(m.group(4)) if m.group(4) else None)
        return _day_of_month(call_date, day, MONTHS.index(m.group(1)) + 1) if day else None
    m = _THE_ORD.search(s)
    if m:
        day = _ordinal(m.group(1), m.group(2))
        return _day_of_month(call_date, day) if day else None
    m = _SPAN.search(s) or _BARE_SPAN.search(s)
    if m:
        low, high, working, unit = m.groups()
        n = _number(high) or _number(low)
        if n is None:
            return None
        if unit.startswith("hour"):
            return call_date + timedelta(days=-(-n // HOURS_PER_DAY) if n > HOURS_PER_DAY // 2 else 0)
        if unit.startswith("day"):
            return _add_working_days(call_date, n) if working else call_date + timedelta(days=n)
        if unit.startswith("week"):
            return _add_working_days(call_date, 5 * n) if working else call_date + timedelta(weeks=n)
        return _add_months(call_date, n)
    if re.search(r"\bend of (?:the |this )?week\b|\bthis week\b", s):
        friday = call_date + timedelta(days=WORK_WEEK_END - call_date.weekday())
        return friday if friday >= call_date else call_date + timedelta(days=6 - call_date.weekday())
    if re.search(r"\bend of (?:the |this )?month\b|\bthis month\b", s):
        return date(call_date.year, call_date.month, calendar.monthrange(call_date.year, call_date.month)[1])
    m = _NEXT_DAY.search(s)
    if m:
        monday = call_date + timedelta(days=7 - call_date.weekday())
        return monday + timedelta(days=DAYS.index(m.group(1)))
    if re.search(r"\bnext week\b", s):
        return call_date + timedelta(days=7 - call_date.weekday())
    if re.search(r"\bnext month\b", s):
        return _add_months(call_date.replace(day=1), 1)
    m = _ON_DAY.search(s)
    if m:
        return _next_weekday(call_date, DAYS.index(m.group(1)))
    if _SAME_DAY.search(s):
        return call_date
    return None


__all__ = ["resolve_due"]
