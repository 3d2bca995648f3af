"""The test planning worker end to end: fifteen perspectives, the seed snippet, restarts, tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autocoder.cli import main
from autocoder.schema import SPECS, TestSpec
from autocoder.store.reader import LocalReader, read_shard
from autocoder.workers.test_planning.verify import collect_generated_tests

DATASET = "autocoder-test-planning-results"


@pytest.fixture
def planned(
    shop_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Path:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    data = tmp_path / "data"
    assert (
        main(
            [
                "once",
                "test-planning",
                "--target",
                str(shop_repo),
                "--data-dir",
                str(data),
                "--iterations",
                "15",
            ]
        )
        == 0
    )
    capsys.readouterr()
    return data


def _all_specs(folder: Path) -> list[TestSpec]:
    reader = LocalReader(folder)
    rows = [row for path in reader.list_files(SPECS.folder) for row in read_shard(reader, path)]
    fields = set(TestSpec.model_fields)
    return list(
        {
            r["id"]: TestSpec.model_validate({k: v for k, v in r.items() if k in fields})
            for r in rows
        }.values()
    )


def test_seed_snippet_works_verbatim_on_the_local_folder(planned: Path) -> None:
    from datasets import load_dataset

    counts = {}
    # --- the snippet, with a local folder path in place of the repo id ---
    tests = load_dataset(str(planned / DATASET))
    latest = tests["train"][-1]
    edge_cases = latest["cumulative_insights"]["edge_cases_discovered"]
    failure_modes = latest["cumulative_insights"]["failure_modes_identified"]
    if failure_modes >= 10:
        counts["gate"] = "tripped"
    # ---
    assert isinstance(edge_cases, int) and edge_cases >= 2  # at least 100 and 101 from `qty > 100`
    assert isinstance(failure_modes, int) and failure_modes >= 1
    assert latest["perspective_name"] == "Big Picture Review"
    assert len(latest["cumulative_insights"]["perspectives_completed"]) == 15
    specs = load_dataset(str(planned / DATASET), "specs")["train"]
    assert len(specs) >= latest["cumulative_insights"]["test_specs_active"]


def test_every_generated_test_of_the_fixture_collects(planned: Path, shop_repo: Path) -> None:
    specs = _all_specs(planned / DATASET)
    collection = collect_generated_tests(shop_repo, specs)
    assert len(specs) > 30
    assert collection.items >= len(specs), collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output


def test_restart_keeps_the_unique_counts_unchanged(
    planned: Path, shop_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = LocalReader(planned / DATASET)
    from autocoder.store.reader import latest_record

    first = latest_record(before)
    assert first is not None
    assert (
        main(
            [
                "once",
                "test-planning",
                "--target",
                str(shop_repo),
                "--data-dir",
                str(planned),
                "--iterations",
                "15",
            ]
        )
        == 0
    )
    second = latest_record(LocalReader(planned / DATASET))
    assert second is not None and second["iteration"] == 30
    keys = (
        "failure_modes_identified",
        "integration_points_mapped",
        "edge_cases_discovered",
        "test_specs_total",
    )
    assert {k: second["cumulative_insights"][k] for k in keys} == {
        k: first["cumulative_insights"][k] for k in keys
    }


def test_a_spec_whose_subject_disappears_is_retired(planned: Path, shop_repo: Path) -> None:
    from autocoder.store.reader import latest_record

    orders = shop_repo / "shop" / "orders.py"
    orders.write_text(
        orders.read_text().split("def classify")[0]
    )  # classify and everything after: gone
    assert (
        main(
            [
                "once",
                "test-planning",
                "--target",
                str(shop_repo),
                "--data-dir",
                str(planned),
                "--iterations",
                "15",
            ]
        )
        == 0
    )
    insights = latest_record(LocalReader(planned / DATASET))["cumulative_insights"]  # type: ignore[index]
    assert insights["test_specs_retired"] > 0
    assert (
        insights["test_specs_active"] + insights["test_specs_retired"]
        == insights["test_specs_total"]
    )


def test_tests_write_gives_a_tree_pytest_collects_in_the_target(
    planned: Path, shop_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = shop_repo / "tests" / "generated"
    assert main(["tests", "--write", str(out), "--data-dir", str(planned)]) == 0
    files = sorted(out.rglob("test_*.py"))
    assert f"wrote {len(files)} test files" in capsys.readouterr().out
    assert files and all(f.read_text().startswith("# Generated by autocoder (spec ") for f in files)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            str(out),
        ],
        cwd=shop_repo,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(shop_repo), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stdout.lower().split("\n")[-2]


def test_latest_test_planning_record_from_the_cli(
    planned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert main(["latest", "test-planning", "--data-dir", str(planned)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["worker"] == "test-planning" and record["iteration"] == 15
    assert record["analysis"]["top_specs"] and "test_code" not in record["analysis"]["top_specs"][0]
