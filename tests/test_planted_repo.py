"""The planted-defect repository finds what its manifest says: every defect planted in
tests/fixtures/planted_repo is reported by the analysis perspective, tool and rule the manifest
names, at its file and line. The implementation worker's tests and bench count on it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autocoder.engine.perspective import Perspective
from autocoder.schema import Finding
from autocoder.workers.analysis.perspectives.code_quality import CodeQualityAnalysis
from autocoder.workers.analysis.perspectives.dependencies import DependencyAnalysis
from autocoder.workers.analysis.perspectives.security import SecurityAudit
from autocoder.workers.analysis.perspectives.test_coverage import TestCoverageAnalysis

from perspectivekit import context

FIXTURES = Path(__file__).parent / "fixtures"
MANIFEST = json.loads((FIXTURES / "planted_repo_manifest.json").read_text())
DEFECTS: list[dict[str, Any]] = MANIFEST["defects"]
PERSPECTIVES: list[Perspective] = [
    SecurityAudit(), CodeQualityAnalysis(), DependencyAnalysis(), TestCoverageAnalysis()
]  # fmt: skip


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Finding]]:
    """Each perspective's findings on a copy of the planted repository, by perspective name."""
    base = tmp_path_factory.mktemp("planted")
    root = base / "planted_repo"
    shutil.copytree(FIXTURES / "planted_repo", root)
    ctx = context(root, base, network=False)
    return {p.name: p.run(ctx).findings for p in PERSPECTIVES}


def test_the_manifest_plants_ten_defects_or_more_across_every_category() -> None:
    assert len(DEFECTS) >= 10
    assert {d["category"] for d in DEFECTS} == {"security", "quality", "dependencies", "tests"}
    assert len({d["id"] for d in DEFECTS}) == len(DEFECTS)
    assert len({(d["file"], d["line"], d["rule"]) for d in DEFECTS}) == len(DEFECTS)


@pytest.mark.parametrize("defect", DEFECTS, ids=[d["id"] for d in DEFECTS])
def test_each_planted_defect_is_found_by_its_rule_at_its_line(
    findings: dict[str, list[Finding]], defect: dict[str, Any]
) -> None:
    found = findings[defect["perspective"]]
    at_line = [
        (f.tool, f.rule) for f in found if (f.file, f.line) == (defect["file"], defect["line"])
    ]
    assert (defect["tool"], defect["rule"]) in at_line, (defect, at_line)


def test_the_manifest_lines_hold_the_defect_it_describes() -> None:
    """A line number that drifted after an edit of the fixture fails here, not as a missed
    finding: each line is quoted by the rule it must carry."""
    expected_text = {
        "sql-fstring": "f\"SELECT", "requests-no-timeout": "requests.get(url)",
        "yaml-load": "yaml.load(text)", "subprocess-shell": "shell=True",
        "md5-cache-key": "hashlib.md5(", "jinja2-autoescape": "Environment()",
        "unused-import": "import os", "unused-variable": "count = ", "mutable-default": "= []",
        "undeclared-import": "import yaml", "unused-declaration": "click==",
        "untested-module": "\"\"\"",
    }  # fmt: skip
    for defect in DEFECTS:
        lines = (FIXTURES / "planted_repo" / defect["file"]).read_text().splitlines()
        assert expected_text[defect["id"]] in lines[defect["line"] - 1], defect


def test_a_fixed_defect_is_no_longer_found(tmp_path: Path) -> None:
    """The negative case: with the expected fix for B113 made, the finding is gone."""
    root = tmp_path / "planted_repo"
    shutil.copytree(FIXTURES / "planted_repo", root)
    fetch = root / "planted" / "fetch.py"
    fetch.write_text(
        fetch.read_text().replace("requests.get(url)", "requests.get(url, timeout=10)")
    )
    found = SecurityAudit().run(context(root, tmp_path, network=False)).findings
    assert not [f for f in found if f.rule == "B113"]
    assert [f for f in found if f.rule == "B608"]  # the others are still there


def test_the_planted_repositorys_own_tests_pass(tmp_path: Path) -> None:
    """What verification with AUTOCODER_RUN_TARGET_TESTS=1 starts from: a green suite (our own
    fixture's code, run in a subprocess on a copy)."""
    root = tmp_path / "planted_repo"
    shutil.copytree(FIXTURES / "planted_repo", root)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 passed" in done.stdout
