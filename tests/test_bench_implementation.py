"""bench/bench_implementation.py's report and label re-check, on datasets written by LocalStore:
the counts and shares it reports, and a label that a re-run contradicts counted as such."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pytest

from autocoder.cli import main

from patchkit import diff_of, git, make_repo, patch_row, write_patches

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
from bench_implementation import PLANTED, implementation_report, markdown  # noqa: E402
from implementation_checks import ANALYSIS, prepared_target, recheck_labels, rows  # noqa: E402

FILES = {"mod.py": "import os\n\n\ndef f():\n    return 1\n"}


def test_report_counts_items_patches_labels_and_stage_times(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    base = make_repo(repo, FILES)
    diff = diff_of(repo, {"mod.py": "def f():\n    return 1\n"})
    write_patches(tmp_path / "data", [
        [patch_row(1, "patch-01", diff, base, "unverified", item_id="item-a")],
        [patch_row(2, "patch-01", diff, base, "verified", item_id="item-a")],  # same patch
        [patch_row(3, "patch-02", diff, base, "checked", item_id="item-b")],
        [patch_row(4, "patch-03", diff, base, "failed", item_id="item-c", failed_step="ruff")],
    ])  # fmt: skip
    report = implementation_report(tmp_path / "data")
    assert report["items_taken"] == 3
    assert report["patches"] == 3
    assert report["by_label"] == {"verified": 1, "checked": 1, "failed": 1}
    assert report["share"] == {"verified": 0.333, "checked": 0.333, "failed": 0.333,
                               "unverified": 0.0}  # fmt: skip
    assert report["verified_or_checked"] == 0.667
    assert report["failed_steps"] == {"ruff": 1}
    stage = report["stages"]["Implementation Plan"]
    assert (stage["records"], stage["statuses"], stage["total_s"]) == (4, {"ok": 4}, 2.0)
    target = {
        "implementation": report, "runs": {"implementation": {"wall_s": 9.5, "peak_rss_mb": 80.1}},
        "recheck": {"rechecked": 2, "contradicted": 1,
                    "details": [{"id": "patch-02", "label": "checked", "contradicted": ["x"]}]},
    }  # fmt: skip
    table = markdown({"targets": {"planted": target}}).splitlines()
    assert table[2] == "| planted | 3 | 3 | 1 | 1 | 1 | 0 | 67% | 2 | 1 | 9.5 | 80.1 |"
    assert "| planted | Implementation Plan | 4 | ok 4 | 2.0 | 0.5 | 0.5 |" in table
    assert table[-1] == "- planted: patch-02 (checked): x"


def test_report_of_an_empty_dataset_has_no_shares(tmp_path: Path) -> None:
    report = implementation_report(tmp_path)
    assert (report["patches"], report["verified_or_checked"]) == (0, None)


@pytest.mark.slow
def test_recheck_counts_a_label_whose_finding_is_still_there(tmp_path: Path) -> None:
    """Two patches of the planted repo labelled checked: one adds the timeout (B113 gone), one
    only adds a comment (B113 still there): the re-run contradicts the second only."""
    work = tmp_path / "work"
    work.mkdir()
    target = prepared_target(PLANTED, work)
    base = git(target, "rev-parse", "HEAD")
    data = work / "data"
    assert main(["once", "analysis", "--iterations", "6", "--target", str(target),
                 "--data-dir", str(data)]) == 0  # fmt: skip
    [b113] = [
        f for f in rows(data / ANALYSIS, "data/findings", "fingerprint") if f["rule"] == "B113"
    ]
    scratch = tmp_path / "scratch"
    shutil.copytree(target, scratch)
    fetch = (scratch / "planted/fetch.py").read_text()
    fixed = diff_of(
        scratch, {"planted/fetch.py": fetch.replace("get(url)", "get(url, timeout=10)")}
    )
    cosmetic = diff_of(scratch, {"planted/fetch.py": "# fetched\n" + fetch})
    write_patches(data, [
        [patch_row(1, "patch-fix", fixed, base, "checked", fingerprints=[b113["fingerprint"]],
                   files=["planted/fetch.py"])],
        [patch_row(2, "patch-noop", cosmetic, base, "checked", fingerprints=[b113["fingerprint"]],
                   files=["planted/fetch.py"])],
    ])  # fmt: skip
    options = argparse.Namespace(timeout_s=600.0, run_tests=False, test_timeout_s=60.0)
    result = recheck_labels(target, data, work, options)
    assert (result["rechecked"], result["contradicted"]) == (2, 1)
    [noop] = result["details"]
    assert noop["id"] == "patch-noop"
    assert noop["contradicted"] == [f"finding still there: {b113['fingerprint']}"]
