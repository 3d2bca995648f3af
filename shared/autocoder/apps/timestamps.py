"""One way to show a moment on every page: ``5 s ago · 18:50 UTC``.

The relative part says how fresh a thing is at a glance; the absolute part (UTC, minutes, with
the date only when it is not today) lets two people compare what they see. Worker pages and the
dashboard both use these, so a time reads the same everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str | float | datetime | None) -> datetime | None:
    """An aware UTC datetime from ISO text (``...Z`` too), epoch seconds or a datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):  # an absurd epoch in a record
            return None
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def relative(seconds: float) -> str:
    """``just now``, ``42 s ago``, ``5 min ago``, ``3 h ago``, ``2 d ago``; ``in 5 s`` for skew."""
    if abs(seconds) < 1:
        return "just now"
    amount = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if amount >= size:
            text = f"{int(amount // size)} {unit}"
            break
    else:
        text = f"{int(amount)} s"
    return f"{text} ago" if seconds > 0 else f"in {text}"


def absolute(moment: datetime, now: datetime) -> str:
    """``18:50 UTC`` today, ``2026-11-21 18:50 UTC`` on another day."""
    moment, now = moment.astimezone(UTC), now.astimezone(UTC)
    if moment.date() == now.date():
        return f"{moment:%H:%M} UTC"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def when(value: str | float | datetime | None, now: datetime | None = None) -> str:
    """``5 s ago · 18:50 UTC``; ``never`` for no value, the raw text if it does not parse."""
    moment = parse_time(value)
    if moment is None:
        return "never" if value is None or value == "" else str(value)
    now = now or datetime.now(UTC)
    return f"{relative((now - moment).total_seconds())} · {absolute(moment, now)}"


def ago(value: str | float | datetime | None, now: datetime | None = None) -> str:
    """Only the relative part of :func:`when`: ``5 min ago``."""
    return when(value, now).split(" · ")[0]
