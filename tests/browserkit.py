"""Headless Chromium for the page tests: Debian's ``chromium`` driven by Playwright, with its
profile, cache and HOME in the test's tmp dir. ``scripts/test`` installs chromium when root."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
TIMEOUT_MS = 60_000

NEEDS_CHROMIUM = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs /usr/bin/chromium: apt-get install -y --no-install-recommends chromium "
        "(scripts/test does it when run as root)",
    ),
]


@contextmanager
def browser(tmp_path: Path) -> Iterator[Any]:
    """A Chromium context (1400 x 1000) that leaves nothing outside ``tmp_path``."""
    from playwright.sync_api import sync_playwright

    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache")}  # fmt: skip
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=[*ARGS, f"--disk-cache-dir={tmp_path / 'cache'}"],
            env=env,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()
