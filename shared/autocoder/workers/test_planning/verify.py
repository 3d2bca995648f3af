"""Running generated tests against the unmodified target, in a subprocess, outside its tree.

Only with ``AUTOCODER_RUN_TARGET_TESTS=1``: it executes the target's code. A generated test that
fails is kept with status ``failed`` ("this fails today: possible bug"), never dropped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from autocoder.errors import ToolError
from autocoder.schema import TestSpec

PER_TEST_TIMEOUT_S = 30  # pytest-timeout: one hung generated test cannot stall the batch


def _write_tests(folder: Path, specs: list[TestSpec]) -> None:
    for spec in specs:
        (folder / f"test_{spec.id}.py").write_text(spec.test_code, encoding="utf-8")


def _pytest(
    root: Path, folder: Path, args: list[str], timeout_s: float
) -> subprocess.CompletedProcess[str]:
    paths = [str(root), str(root / "src"), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HYPOTHESIS_STORAGE_DIRECTORY": str(folder / ".hypothesis"),
    }
    options = ["-p", "no:cacheprovider", "--rootdir", str(folder), "-o", "addopts=",
               "-o", f"timeout={PER_TEST_TIMEOUT_S}", "-q"]  # fmt: skip
    command = [sys.executable, "-m", "pytest", *options, *args, str(folder)]
    try:
        return subprocess.run(
            command,
            cwd=folder,  # the target is on the path, but its checkout is never the working folder
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"generated tests ran longer than {timeout_s:.0f}s in {root}") from None


def _spec_id_of(case: ET.Element) -> str:
    """The spec a junit test case came from: its module ``test_<id>``, or for a module-level
    skip or collection error (empty classname) the file named in the case's name."""
    module = case.get("classname", "").rsplit(".", 1)[-1]
    if not module:
        module = Path(case.get("name", "").split("::")[0]).stem
    return module.removeprefix("test_")


def _outcome(case: ET.Element) -> str:
    if case.find("failure") is not None:
        return "failed"
    if case.find("error") is not None:
        return "error"
    if case.find("skipped") is not None:
        return "not_run"
    return "passed"


def run_generated_tests(root: Path, specs: list[TestSpec], timeout_s: float) -> list[TestSpec]:
    """The specs with ``status`` set from running their tests (a spec's worst test wins)."""
    if not specs:
        return specs
    order = {"passed": 0, "not_run": 1, "failed": 2, "error": 3}
    with tempfile.TemporaryDirectory(prefix="autocoder-generated-") as tmp:
        folder = Path(tmp)
        _write_tests(folder, specs)
        junit = folder / "junit.xml"
        _pytest(root, folder, [f"--junitxml={junit}", "--continue-on-collection-errors"], timeout_s)
        status: dict[str, str] = {}
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314
                spec_id = _spec_id_of(case)
                outcome = _outcome(case)
                if order[outcome] >= order[status.get(spec_id, "passed")]:
                    status[spec_id] = outcome
    return [s.model_copy(update={"status": status.get(s.id, "error")}) for s in specs]


def collect_generated_tests(
    root: Path, specs: list[TestSpec], timeout_s: float = 300
) -> tuple[int, str]:
    """How many test items pytest collects from the specs' code (nothing is run), and its output."""
    with tempfile.TemporaryDirectory(prefix="autocoder-collect-") as tmp:
        folder = Path(tmp)
        _write_tests(folder, specs)
        done = _pytest(root, folder, ["--collect-only"], timeout_s)
    collected = sum(1 for line in done.stdout.splitlines() if "::" in line)
    return collected, done.stdout + done.stderr
