"""Two real worker pages served from one process and one log buffer (as ``autocoder up`` does),
opened in headless Chromium driven by Playwright: what a person sees on each.

Uses Debian's ``chromium`` (``/usr/bin/chromium``; ``scripts/test`` installs it as root). The
screenshots land in the test's tmp dir as ``planning.png`` and ``failing.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from browserkit import NEEDS_CHROMIUM, TIMEOUT_MS, browser

from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app
from autocoder.engine.logbuffer import install_logging
from autocoder.settings import Settings
from autocoder.workers.catalog import worker_spec

from appkit import serving

ONE_LINE_PX = 34  # a header or short cell taller than this has wrapped

pytestmark = NEEDS_CHROMIUM


@pytest.fixture
def pages(shop_dir: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The test planning page on the shop fixture, and the analysis page on a missing target."""
    ring = install_logging([])
    urls: dict[str, str] = {}
    with ExitStack() as stack:
        for name, target in (("test-planning", shop_dir), ("analysis", tmp_path / "nope")):
            settings = Settings(target=str(target), data_dir=tmp_path / "data", interval_s=0.3)  # type: ignore[arg-type]
            app = build_app(WorkerService(worker_spec(name), settings), ring)
            urls[name] = stack.enter_context(serving(app))
        yield urls


def _heights(page: Any, selector: str) -> list[float]:
    return list(
        page.eval_on_selector_all(selector, "els => els.map(e => e.getBoundingClientRect().height)")
    )


LINES_JS = """els => els.map(e => {
  const range = document.createRange();
  range.selectNodeContents(e);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
})"""


def _lines(page: Any, selector: str) -> list[int]:
    """How many lines the text of each element takes (a cell's box is as tall as its row, which
    a long wrapped cell next to it makes taller)."""
    return list(page.eval_on_selector_all(selector, LINES_JS))


def test_the_planning_page_is_readable_and_shows_only_its_own_newest_log(
    pages: dict[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser(tmp_path) as context:
        page = context.new_page()
        page.goto(pages["test-planning"], timeout=TIMEOUT_MS)
        expect(page.locator("#ac-table td").first).not_to_contain_text(
            "No rows", timeout=TIMEOUT_MS
        )
        picker = page.locator("#ac-picker input")
        expect(picker).not_to_have_value("", timeout=TIMEOUT_MS)  # filled without a click
        expect(page.locator(".cm-content")).to_contain_text("def test_", timeout=TIMEOUT_MS)
        headers = _heights(page, "#ac-table th")
        assert len(headers) == 8 and max(headers) < ONE_LINE_PX, headers
        short = _lines(page, "#ac-table td:not(.ac-long)")
        assert short and max(short) == 1, short  # no short cell wraps
        expect(page.locator("#ac-health")).to_contain_text("Health:")
        log = page.locator("#ac-log textarea")
        expect(log).to_have_value(re.compile("iteration"), timeout=TIMEOUT_MS)
        page.wait_for_timeout(2000)  # a few more iterations of both workers
        text = log.input_value()
        assert "nope" not in text and "Security Audit" not in text, text[:500]
        times = re.findall(r"^(\d\d:\d\d:\d\d) ", text, flags=re.MULTILINE)
        assert len(times) > 3 and times == sorted(times, reverse=True), times[:10]
        page.screenshot(path=str(tmp_path / "planning.png"), full_page=True)
    assert (tmp_path / "planning.png").stat().st_size > 10_000


def test_a_failing_worker_shows_its_last_error_its_health_and_the_control_that_applies(
    pages: dict[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser(tmp_path) as context:
        page = context.new_page()
        page.goto(pages["analysis"], timeout=TIMEOUT_MS)
        box = page.locator("#ac-last-error")
        expect(box).to_contain_text("Last iteration failed", timeout=TIMEOUT_MS)
        expect(box).to_contain_text(
            re.compile(r"(ago|just now) · \d\d:\d\d UTC: .*nope.* does not exist")
        )
        expect(page.locator("#ac-health")).to_contain_text("down", timeout=TIMEOUT_MS)
        start, stop = page.locator("#ac-start"), page.locator("#ac-stop")
        expect(start).to_be_disabled(timeout=TIMEOUT_MS)
        expect(stop).to_be_enabled()
        stop.click()
        expect(start).to_be_enabled(timeout=TIMEOUT_MS)
        expect(stop).to_be_disabled()
        expect(page.locator("#ac-status")).to_contain_text("stopped", timeout=TIMEOUT_MS)
        page.screenshot(path=str(tmp_path / "failing.png"), full_page=True)
        start.click()
        expect(stop).to_be_enabled(timeout=TIMEOUT_MS)
        expect(start).to_be_disabled()
    assert (tmp_path / "failing.png").stat().st_size > 10_000
