"""Cron schedules as CronJobs read them (upstream uses robfig/cron's standard parser): five
fields `minute hour day-of-month month day-of-week`, each `*`, `?`, numbers, names (`jan`,
`mon`), ranges `a-b`, lists `a,b` and steps `*/n` or `a-b/n`, plus the descriptors `@yearly`
(`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly`. When both
day fields are restricted a day matches either, as in Vixie cron.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
               "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                          "nov", "dec"))}
DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (name, lowest, highest, names)
FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}), ("month", 1, 12, MONTHS),
    ("day of week", 0, 6, DAYS))
SEARCH_YEARS = 5  # a schedule with no time in five years (Feb 30) never fires


class CronError(ValueError):
    """A schedule that does not parse; the message says which part and why."""


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool  # day of month was * or ?
    any_weekday: bool

    def matches_day(self, t: datetime) -> bool:
        dom, dow = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def next_after(self, t: datetime) -> datetime | None:
        """The first time after `t` (aware; its zone is the schedule's) that the schedule fires."""
        zone = t.tzinfo
        naive = t.replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        limit = naive.replace(year=naive.year + SEARCH_YEARS)
        while naive < limit:
            if naive.month not in self.months:
                naive = (naive.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self.matches_day(naive):
                naive = naive.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if naive.hour not in self.hours:
                naive = naive.replace(minute=0) + timedelta(hours=1)
                continue
            if naive.minute not in self.minutes:
                naive += timedelta(minutes=1)
                continue
            return naive.replace(tzinfo=zone)  # wall-clock time: a DST gap's minutes resolve forward
        return None


def _value(text: str, low: int, high: int, names: dict[str, int], field: str) -> int:
    key = text.lower()
    if key in names:
        return names[key]
    if not text.isdigit():
        raise CronError(f"failed to parse int from {text}: strconv.Atoi: parsing {text!r}: invalid syntax")
    value = int(text)
    if field == "day of week" and value == 7:
        return 0  # Sunday, either way
    if value < low:
        raise CronError(f"beginning of range ({value}) below minimum ({low}): {text}")
    if value > high:
        raise CronError(f"end of range ({value}) above maximum ({high}): {text}")
    return value


def _field(text: str, field: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    out: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"step of range should be a positive number: {part}")
            step = int(step_text)
        if span in ("*", "?"):
            first, last = low, high
        else:
            a, dash, b = span.partition("-")
            first = _value(a, low, high, names, field)
            last = _value(b, low, high, names, field) if dash else (high if step_text else first)
            if first > last:
                raise CronError(f"beginning of range ({first}) beyond end of range ({last}): {part}")
        out.update(range(first, last + 1, step))
    return frozenset(out)


def parse(spec: str) -> Schedule:
    text = spec.strip()
    if text.startswith("@"):
        if text not in DESCRIPTORS:
            raise CronError(f"unrecognized descriptor: {text}")
        text = DESCRIPTORS[text]
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(parts)}: [{' '.join(parts)}]")
    sets = [_field(p, name, low, high, names) for p, (name, low, high, names) in zip(parts, FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = sets
    return Schedule(minutes, hours, days, months, weekdays, any_day=parts[2] in ("*", "?"),
                    any_weekday=parts[4] in ("*", "?"))


def zone(name: str | None) -> tzinfo:
    """The CronJob's `timeZone` (None: the controller's local time, which is UTC here); zoneinfo
    reads the system's database or, where a machine has none, the `tzdata` package."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(f"unknown time zone {name}") from exc
