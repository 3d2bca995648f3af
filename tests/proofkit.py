"""What the proof tests (``tests/test_proof_*.py``) share: how big a run is, and one row each.

The same tests run in two sizes. In the ordinary test run (CI) they are short: a few kills, a
few seconds of Hub outage, a few hundred records. ``AUTOCODER_PROOF=full`` (what
``bench/proof.py`` sets) runs them at the size the README's reliability section quotes.

Each proof test reports what it measured with :func:`proof_row`; ``bench/proof.py`` collects the
rows from pytest's JUnit XML and prints them as one table. A row is a promise checked, not a
log line: ``check`` says what was tried, ``result`` what came out (``0 lost, 0 duplicated``),
``figure`` the numbers behind it.

    def test_kills_lose_nothing(record_property, tmp_path):
        kills = scaled(short=3, full=20)
        ...
        proof_row(record_property, "faults", f"kill -9 x{kills} (analysis)", "0 lost", "...")
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

PROOF_ENV = "AUTOCODER_PROOF"
ROW_PROPERTY = "proof_row"


def full_run() -> bool:
    """True when ``AUTOCODER_PROOF=full``: run at the size the README quotes."""
    return os.environ.get(PROOF_ENV, "").strip().lower() == "full"


def scaled(short: int, full: int) -> int:
    """``short`` in the ordinary test run, ``full`` under ``AUTOCODER_PROOF=full``."""
    return full if full_run() else short


def proof_row(
    record_property: Callable[[str, object], None],
    section: str,
    check: str,
    result: str,
    figure: str = "",
) -> None:
    """One row of the proof table (``section`` is hostile, faults, secrets, access or load)."""
    row = {"section": section, "check": check, "result": result, "figure": figure}
    record_property(ROW_PROPERTY, json.dumps(row, ensure_ascii=False))
