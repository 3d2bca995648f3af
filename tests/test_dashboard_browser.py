"""The real dashboard over real worker output, opened in headless Chromium driven by Playwright.

Uses Debian's ``chromium`` (``/usr/bin/chromium``; ``scripts/test`` installs it as root): the
browser Playwright would download is not reachable here. The screenshot lands in the test's
tmp dir as ``dashboard.png``.

The data is the real output of the analysis and test planning workers, plus what a new user
meets: a third worker whose every iteration fails (after one skipped perspective), and a corrupt
shard in the analysis dataset. The page must say so in the banner, and stay readable.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from browserkit import NEEDS_CHROMIUM, TIMEOUT_MS
from browserkit import browser as chromium
from test_dashboard_app import dashboard, newest, worker_data  # noqa: F401 - the fixture

from autocoder.schema import RECORDS, TaskRow, utc_timestamp
from autocoder.store.layout import jsonl, shard_path
from autocoder.store.tasklog import write_task_rows

from appkit import serving

MISSING = (
    "AUTOCODER_TARGET='/nope' does not exist: set it to a folder or a git URL this Space can "
    "reach, then restart the worker"
)
SKIPPED = "no Python package found (no folder with __init__.py, nothing in pyproject.toml)"
PR = "https://github.com/acme/shop/pull/7"
NEEDS_LLM = "a feature task needs a language model: set AUTOCODER_LLM_BASE_URL"
WHEN = re.compile(r"(just now|\d+ (s|min|h|d) ago) · (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC")
# Words a header or a cell breaks inside of (the "iteratio/ns" defect): one entry per word.
# Gradio 6 draws a table's cells as ``.body-cell`` divs of a virtual table, its headers as ``th``.
BROKEN_WORDS_JS = """
(selector) => {
  const broken = [], cells = document.querySelectorAll(selector);
  if (cells.length === 0) return ["no cell matches " + selector];
  for (const cell of cells) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0);
        const width = rects.reduce((sum, r) => sum + r.width, 0);
        // broken across lines although the whole word would fit on one line of its cell
        if (rects.length > 1 && width < cell.clientWidth - 16) broken.push(match[0]);
      }
    }
  }
  return broken;
}
"""

pytestmark = NEEDS_CHROMIUM


def _record(i: int, at: datetime, status: str, error: str | None) -> dict[str, Any]:
    perspective = "Code Ownership" if status == "skipped" else "Refactoring Plan"
    return {
        "iteration": i, "timestamp": utc_timestamp(at), "worker": "implementation",
        "perspective_id": perspective.lower().replace(" ", "_"), "perspective_name": perspective,
        "target": {"repo": "/nope", "commit": None}, "status": status, "error": error,
        "duration_s": 0.01, "analysis": {"reason": error} if error else {},
        "cumulative_insights": {},
    }  # fmt: skip


def _task(n: int, status: str, at: datetime, **fields: Any) -> TaskRow:
    return TaskRow.model_validate({
        "id": f"task-{n:016x}", "type": "feature", "priority": n, "description": f"feature {n}",
        "source": "api", "status": status, "created_at": utc_timestamp(at),
        "updated_at": utc_timestamp(at), "iteration": 0, "worker": "implementation",
        "repo": "/nope", "commit": None, **fields,
    })  # fmt: skip


def troubled(worker_output: Path, data: Path) -> Path:
    """The workers' real output, a corrupt analysis shard, and a worker that only fails (its
    tasks handed over the API: one published long ago, one failed since)."""
    shutil.copytree(worker_output, data)
    analysis = data / "autocoder-analysis-results"
    (analysis / shard_path(RECORDS, 7)).write_bytes(b'{"iteration": 7, "timest\n')
    failing = data / "autocoder-implementation-results"
    now = datetime.now(UTC)
    rows = [_record(1, now - timedelta(seconds=40), "skipped", SKIPPED)]
    rows += [_record(i, now - timedelta(seconds=40 - 10 * i), "error", MISSING) for i in (2, 3, 4)]
    for row in rows:
        path = failing / shard_path(RECORDS, row["iteration"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jsonl([row]))
    write_task_rows(failing, [
        _task(1, "completed", now - timedelta(hours=2), branch_name="autocoder/item-1",
              published_url=PR),
        _task(2, "failed", now - timedelta(seconds=30), error_detail=NEEDS_LLM),
    ])  # fmt: skip
    return data


def test_the_page_tells_the_truth_about_health_and_stays_readable(
    worker_data: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    data = troubled(worker_data, tmp_path / "data")
    with serving(dashboard(data, refresh_s=2.0)) as url, chromium(tmp_path) as browser:
        page = browser.new_page()
        page.goto(url, timeout=TIMEOUT_MS)
        banner = page.locator("#ac-banner")
        expect(banner).to_contain_text("Degraded", timeout=TIMEOUT_MS)
        expect(banner).to_contain_text(f"Implementation: the last 3 iterations failed: {MISSING}")
        expect(banner).to_contain_text(f"Analysis: 1 unreadable shard {shard_path(RECORDS, 7)}")
        overview = page.locator("#overview")
        expect(overview).to_contain_text("Skipped perspectives")
        expect(overview).to_contain_text("Code Ownership (Implementation Worker), ")
        expect(overview).to_contain_text(SKIPPED)

        workers = page.locator("#workers")
        for title in ("Analysis Worker", "Test Planning Worker", "Implementation Worker"):
            expect(workers).to_contain_text(title, timeout=TIMEOUT_MS)
        clipped = workers.locator(".ac-clip")
        expect(clipped.first).to_have_attribute("title", re.compile(re.escape(MISSING)))
        assert len(clipped.first.inner_text()) < len(MISSING)  # cut short, whole on hover
        assert WHEN.search(workers.inner_text())
        charts = page.locator(".js-plotly-plot")
        expect(charts).to_have_count(4, timeout=TIMEOUT_MS)

        findings_count = newest(worker_data, "autocoder-analysis-results")["cumulative_insights"][
            "unique_findings"
        ]
        traced = page.locator("#traceability-text")
        expect(traced).to_contain_text(
            f"{findings_count} findings (unique findings the analysis worker has recorded"
        )
        expect(traced).to_contain_text("0 published (patches published as a branch or a pull")
        expect(traced).to_contain_text(
            "counted as 0: the Implementation Worker's newest record has no items_taken, "
            "patches_total, patches_verified, patches_published counts"
        )
        funnel = page.evaluate(
            "() => document.querySelector('#traceability .js-plotly-plot').data"
            ".map((t) => [t.type, t.x])"
        )
        assert funnel == [["funnel", [findings_count, 0, 0, 0, 0]]]
        expect(page.locator("#tasks-note")).to_contain_text("2 tasks: 1 completed, 1 failed")
        tasks = page.locator("#tasks")
        expect(tasks).to_contain_text(f"task-{2:016x}")
        expect(tasks).to_contain_text(NEEDS_LLM)
        expect(tasks.get_by_role("link", name="autocoder/item-1")).to_have_attribute("href", PR)
        shown = tasks.inner_text()
        assert shown.index(f"task-{2:016x}") < shown.index(f"task-{1:016x}")  # newest first

        findings = page.locator("#findings")
        expect(findings).to_contain_text("Security Audit", timeout=TIMEOUT_MS)
        assert "test-planning" not in findings.inner_text()  # specs have their own tab
        assert WHEN.search(findings.inner_text())
        label = page.locator("#findings-rows")
        expect(label).to_contain_text(re.compile(r"rows 1-20 of \d+ · page 1 of \d+"))
        total = int(re.search(r"of (\d+) ·", label.inner_text()).group(1))  # type: ignore[union-attr]
        page.locator("#findings-page input").fill("2")
        page.locator("#findings-page input").press("Enter")
        expect(label).to_contain_text(f"rows 21-{min(40, total)} of {total} · page 2")
        page.wait_for_timeout(2500)  # one timer tick: it keeps the page the tab is on
        expect(label).to_contain_text("page 2")

        page.get_by_label("severity").click()
        page.get_by_role("option", name="high", exact=True).click()
        expect(findings).not_to_contain_text("untested-module", timeout=TIMEOUT_MS)  # low
        expect(label).to_contain_text("page 1 of")  # a new filter starts on page 1
        expect(page.locator("#findings-page input")).to_have_value("1")

        for table in ("#workers", "#findings", "#tasks"):
            assert page.evaluate(BROKEN_WORDS_JS, f"{table} th") == []
        assert page.evaluate(BROKEN_WORDS_JS, "#workers .body-cell") == []
        header = page.locator("#workers thead").bounding_box()
        assert header is not None and header["height"] < 80  # two lines at most

        specs = page.evaluate(
            "() => document.querySelectorAll('.js-plotly-plot')[2].data"
            ".map((t) => [t.name, (t.line || {}).dash || 'solid'])"
        )
        assert specs == [["active", "solid"], ["total", "dash"]]  # total on top, dashed

        page.get_by_role("tab", name="Test specs").click()
        expect(page.locator("#specs")).to_contain_text("rationale", timeout=TIMEOUT_MS)
        assert page.evaluate(BROKEN_WORDS_JS, "#specs th") == []
        page.get_by_role("tab", name="Patches").click()  # the implementation worker's own tab
        expect(page.locator("#patches")).to_contain_text("fixer", timeout=TIMEOUT_MS)
        expect(page.locator("#patches-rows")).to_contain_text("no rows")  # it made none yet
        page.get_by_role("tab", name="Analysis findings").click()

        page.wait_for_timeout(2500)  # one timer tick: the page must still be whole after it
        expect(charts).to_have_count(4)
        expect(tasks).to_contain_text(NEEDS_LLM)
        expect(banner).to_contain_text("Degraded")
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
