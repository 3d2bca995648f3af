"""The real dashboard over real worker output, opened in headless Chromium driven by Playwright.

Uses Debian's ``chromium`` (``/usr/bin/chromium``; ``scripts/test`` installs it as root): the
browser Playwright would download is not reachable here. The screenshot lands in the test's
tmp dir as ``dashboard.png``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_dashboard_app import dashboard, worker_data  # noqa: F401 - the module's fixture

from appkit import serving

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs /usr/bin/chromium: apt-get install -y --no-install-recommends chromium "
        "(scripts/test does it when run as root)",
    ),
]


def test_the_page_shows_the_banner_the_workers_and_the_charts(
    worker_data: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache")}  # fmt: skip
    with serving(dashboard(worker_data, refresh_s=2.0)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=[*ARGS, f"--disk-cache-dir={tmp_path / 'cache'}"],
            env=env,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            page = browser.new_page()
            page.goto(url, timeout=TIMEOUT_MS)
            expect(page.locator("#ac-banner")).to_contain_text(
                "All Systems Operational", timeout=TIMEOUT_MS
            )
            expect(page.locator("#overview")).to_contain_text("2 of 2 workers online")
            workers = page.locator("#workers")
            for title in ("Analysis Worker", "Test Planning Worker", "Implementation Worker"):
                expect(workers).to_contain_text(title, timeout=TIMEOUT_MS)
            expect(workers).to_contain_text("not deployed")
            charts = page.locator(".js-plotly-plot")
            expect(charts).to_have_count(3, timeout=TIMEOUT_MS)
            findings = page.locator("#findings")
            expect(findings).to_contain_text("Integration Points")  # newest first: test planning
            page.get_by_label("worker").click()
            page.get_by_role("option", name="analysis", exact=True).click()
            expect(findings).not_to_contain_text("Integration Points", timeout=TIMEOUT_MS)
            page.get_by_label("perspective").click()
            page.get_by_role("option", name="Security Audit", exact=True).click()
            expect(findings).not_to_contain_text("Test Coverage Analysis", timeout=TIMEOUT_MS)
            expect(findings).to_contain_text("Security Audit")
            page.wait_for_timeout(2500)  # one timer tick: the page must still be whole after it
            expect(charts).to_have_count(3)
            expect(page.locator("#ac-banner")).to_contain_text("All Systems Operational")
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
