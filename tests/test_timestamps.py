"""The one time format every page uses: ``5 s ago · 18:50 UTC``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from autocoder.apps import timestamps

NOW = datetime(2026, 12, 7, 18, 50, 30, tzinfo=UTC)


def test_a_moment_today_reads_relative_then_time_of_day() -> None:
    assert timestamps.when(NOW - timedelta(seconds=5), NOW) == "5 s ago · 18:50 UTC"


def test_a_moment_on_another_day_carries_its_date() -> None:
    moment = (NOW - timedelta(days=2, hours=1)).isoformat()
    assert timestamps.when(moment, NOW) == "2 d ago · 2026-12-05 17:50 UTC"


def test_iso_with_z_epoch_seconds_and_naive_text_all_read_as_utc() -> None:
    epoch = (NOW - timedelta(minutes=5)).timestamp()
    assert timestamps.when(epoch, NOW) == "5 min ago · 18:45 UTC"
    assert timestamps.when("2026-12-07T17:50:30Z", NOW) == "1 h ago · 17:50 UTC"
    assert timestamps.when("2026-12-07T17:50:30", NOW) == "1 h ago · 17:50 UTC"


def test_no_value_is_never_and_unparseable_text_is_shown_as_it_is() -> None:
    assert timestamps.when(None, NOW) == "never"
    assert timestamps.when("", NOW) == "never"
    assert timestamps.when("yesterday-ish", NOW) == "yesterday-ish"


def test_clock_skew_reads_as_in_the_future_and_now_as_just_now() -> None:
    assert timestamps.ago(NOW + timedelta(seconds=30), NOW) == "in 30 s"
    assert timestamps.ago(NOW, NOW) == "just now"


def test_an_absurd_epoch_reads_as_the_raw_value_not_a_crash() -> None:
    assert timestamps.when(1e300, NOW) == "1e+300"
    assert timestamps.when(float("nan"), NOW) == "nan"
