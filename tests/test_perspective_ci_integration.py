"""CI/CD Integration: the target's CI config and test command, and a workflow gating on the datasets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autocoder.engine.perspective import PerspectiveResult
from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.ci_integration import CICDIntegration
from autocoder.workers.test_planning.verify import collect_generated_tests, run_generated_tests

from perspectivekit import context, write_target

MANY = {
    "pkg/__init__.py": "",
    "tox.ini": "[tox]\nenvlist = py312\n\n[testenv]\ndeps = pytest\ncommands =\n    pytest {posargs}\n",
    "noxfile.py": 'import nox\n\n\n@nox.session\ndef tests(session):\n    session.install("pytest")\n    session.run("pytest", "-x")\n',
    ".gitlab-ci.yml": "test:\n  image: python:3.12\n  script:\n    - pip install -e .\n    - python -m pytest -q\n",
    ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.6.0\n    hooks:\n      - id: ruff\n      - id: ruff-format\n",
}


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], PerspectiveResult]:
    ctx = context(root, tmp_path, **options)
    result = CICDIntegration().run(ctx)
    return [s for s in result.items if isinstance(s, TestSpec)], result


def _gate_program(workflow: str) -> str:
    steps = yaml.safe_load(workflow)["jobs"]["gate"]["steps"]
    script = next(s["run"] for s in steps if "load_dataset" in s.get("run", ""))
    return script.split("'")[1]


def test_ledger_workflow_runs_pytest_and_gets_the_gate(ledger_dir: Path, tmp_path: Path) -> None:
    specs, result = _run(ledger_dir, tmp_path, run_target_tests=True, tool_timeout_s=120)
    assert result.details["test_commands"] == [
        {"file": ".github/workflows/ci.yml", "command": "pytest -q", "line": 12, "runner": "pytest"}
    ]
    [spec] = specs
    assert (spec.subject, spec.kind, spec.file, spec.line) == (
        "ci:.github/workflows/ci.yml",
        "end-to-end",
        ".github/workflows/ci.yml",
        12,
    )
    assert spec.status == "passed" and 'yaml = pytest.importorskip("yaml")' in spec.test_code
    workflow = yaml.safe_load(result.details["workflow"])
    assert spec.inputs == result.details["workflow"]
    test_steps = [s.get("run") for s in workflow["jobs"]["tests"]["steps"]]
    assert test_steps[-2:] == ["pip install -e . pytest", "pytest -q"]
    assert workflow["jobs"]["tests"]["steps"][1]["with"]["python-version"] == "3.11"
    gate = [s.get("run", "") for s in workflow["jobs"]["gate"]["steps"]]
    assert 'autocoder gate --fail-on high --repo "$HF_USERNAME/autocoder-analysis-results"' in gate
    program = _gate_program(result.details["workflow"])
    compile(program, "gate", "exec")
    assert '["cumulative_insights"]["failure_modes_identified"]' in program
    assert (
        'load_dataset(os.environ["HF_USERNAME"] + "/autocoder-test-planning-results")["train"][-1]'
        in program
    )


def test_a_workflow_that_stops_running_the_tests_fails_the_spec(
    ledger_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(ledger_dir, tmp_path)
    ci = ledger_dir / ".github" / "workflows" / "ci.yml"
    ci.write_text(ci.read_text().replace("run: pytest -q", "run: echo no tests"))
    assert {s.status for s in run_generated_tests(ledger_dir, specs, 120)} == {"failed"}
    now, result = _run(ledger_dir, tmp_path)
    assert result.summary.endswith(
        "None of them runs the tests. The details hold a workflow that adds the gate on the autocoder datasets."
    )
    assert [(s.line, "never runs the tests" in s.rationale, s.priority) for s in now] == [
        (1, True, 1)
    ]


def test_tox_nox_gitlab_and_pre_commit_are_read(tmp_path: Path) -> None:
    root = write_target(tmp_path, MANY)
    specs, result = _run(root, tmp_path, run_target_tests=True, tool_timeout_s=120)
    assert result.details["test_commands"] == [
        {"file": ".gitlab-ci.yml", "command": "python -m pytest -q", "line": 5, "runner": "pytest"},
        {"file": "noxfile.py", "command": "pytest -x", "line": 7, "runner": "pytest"},
        {"file": "tox.ini", "command": "pytest {posargs}", "line": 7, "runner": "pytest"},
    ]
    assert result.details["ci_files"][".pre-commit-config.yaml"]["hooks"] == ["ruff", "ruff-format"]
    assert {s.subject: s.status for s in specs} == {
        "ci:.gitlab-ci.yml": "passed",
        "ci:noxfile.py": "passed",
        "ci:tox.ini": "passed",
    }
    assert "2 pre-commit hooks" in result.summary
    collection = collect_generated_tests(root, specs)
    assert collection.items == 3, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output


def test_shop_without_ci_gets_only_the_recommended_workflow(shop_dir: Path, tmp_path: Path) -> None:
    specs, result = _run(shop_dir, tmp_path)
    assert specs == []
    assert result.summary.startswith("No CI configuration found")
    steps = [
        s.get("run") for s in yaml.safe_load(result.details["workflow"])["jobs"]["tests"]["steps"]
    ]
    assert steps[-2:] == ["pip install -e . -r requirements.txt pytest", "python -m pytest -q"]
    compile(_gate_program(result.details["workflow"]), "gate", "exec")


def test_spec_ids_are_stable_when_unrelated_lines_move(ledger_dir: Path, tmp_path: Path) -> None:
    [before] = _run(ledger_dir, tmp_path)[0]
    ci = ledger_dir / ".github" / "workflows" / "ci.yml"
    ci.write_text("# the ledger's CI\n\n" + ci.read_text())
    [after] = _run(ledger_dir, tmp_path)[0]
    assert (after.id, after.line) == (before.id, 14)


def test_target_without_python_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(write_target(tmp_path, {".gitlab-ci.yml": "test:\n  script: [make]\n"}), tmp_path)
