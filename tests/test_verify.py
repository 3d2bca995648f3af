"""Verifying a patch on fresh scratch copies and labelling it honestly: each step fails for the
defect it is there for, and ``verified`` needs the target's tests to have run and passed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import ClassVar

import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, RunContext, RunOptions
from autocoder.schema import Finding
from autocoder.workers.analysis.evidence import stable_fingerprints
from autocoder.workers.implementation import patching, verify
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.workitem import WorkItem
from tests.test_patching import make_repo

CORE = "import json\n\n\ndef load(text):\n    return eval(text)\n"
TEST = "from pkg.core import load\n\n\ndef test_load():\n    assert load('1') == 1\n"


class EvalAudit:
    """A real perspective, as small as can be: every line with ``eval(`` or ``os.system(`` is a
    high finding, fingerprinted like the analysis worker's (tool, rule, file, line text)."""

    id: ClassVar[str] = "eval_audit"
    name: ClassVar[str] = "Security Audit"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        findings = []
        for rel in ctx.sources.python:
            for n, line in enumerate((ctx.root / rel).read_text().splitlines(), 1):
                for rule, marker in (("EV1", "eval("), ("SH1", "os.system(")):
                    if marker in line:
                        key = f"test-audit\0{rule}\0{rel}\0{line.strip()}"
                        findings.append(Finding(
                            tool="test-audit", rule=rule, severity="high", file=rel, line=n,
                            message=f"{marker} on this line",
                            fingerprint=hashlib.sha256(key.encode()).hexdigest()[:16],
                        ))  # fmt: skip
        return PerspectiveResult(summary=f"{len(findings)} findings", findings=findings)


def fingerprint(file: str, line: str) -> str:
    return hashlib.sha256(f"test-audit\0EV1\0{file}\0{line.strip()}".encode()).hexdigest()[:16]


ITEM = WorkItem(id="item-00000000000000ee", kind="finding", source="Security Audit",
                tool="test-audit", rule="EV1", severity="high", file="pkg/core.py", line=5,
                message="eval( on this line",
                fingerprints=[fingerprint("pkg/core.py", "    return eval(text)")])  # fmt: skip


@pytest.fixture
def target(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "target"
    files = {"pkg/__init__.py": "", "pkg/core.py": CORE, "tests/test_core.py": TEST}
    return root, make_repo(root, files)


def verified(
    tmp_path: Path, target: tuple[Path, str], changes: dict[str, str], *,
    item: WorkItem = ITEM, recheck: EvalAudit | None = None, tests: bool = False,
    commit: str | None = None, new_tests: tuple[str, ...] = (), before_after: str | None = None,
) -> verify.Verification:  # fmt: skip
    """The verification of the patch that writes ``changes`` into the target."""
    root, base = target

    def apply(tree: Path) -> list[str]:
        for name, text in changes.items():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_text(text)
        return list(changes)

    options = RunOptions(run_target_tests=tests, tool_timeout_s=120)
    fix = Fix("test:edit", "an edit", True, "for the test", apply)
    patch = patching.make_patch(root, base, item, fix, options, tmp_path / "scratch")
    return verify.verify_patch(
        root, commit or base, item, patch, recheck=recheck,
        cache=ResultCache(tmp_path / "cache" / "results.sqlite3"), options=options,
        scratch_dir=tmp_path / "scratch", new_tests=new_tests, before_after_test=before_after,
    )  # fmt: skip


def statuses(result: verify.Verification) -> dict[str, str]:
    return {s.name: s.status for s in result.steps}


FIXED = CORE.replace("eval(text)", "json.loads(text)")


def test_a_fixed_finding_with_tests_off_is_checked_and_says_the_tests_did_not_run(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    result = verified(tmp_path, target, {"pkg/core.py": FIXED}, recheck=EvalAudit())
    assert result.status == "checked" and result.failed_step is None
    assert statuses(result) == {"applies": "passed", "parses": "passed", "ruff": "passed",
                                "finding gone": "passed", "no new high": "passed",
                                "tests": "not_run"}  # fmt: skip
    tests = result.as_evidence()["steps"][-1]
    assert tests == {"name": "tests", "status": "not_run", "reason": "not allowed",
                     "detail": "the target's tests were not run (AUTOCODER_RUN_TARGET_TESTS is off)"}  # fmt: skip
    assert result.summary().startswith("checked: passed applies, parses, ruff, finding gone")


def test_a_patch_that_breaks_the_syntax_fails_at_parses(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    result = verified(tmp_path, target, {"pkg/core.py": CORE.replace("(text)", "(text")},
                      recheck=EvalAudit())  # fmt: skip
    assert (result.status, result.failed_step) == ("failed", "parses")
    assert "pkg/core.py: line" in result.steps[1].detail
    assert result.steps[2].reason == "stopped"


def test_a_patch_that_adds_an_unused_import_fails_at_ruff(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    result = verified(tmp_path, target, {"pkg/core.py": "import os\n" + FIXED},
                      recheck=EvalAudit())  # fmt: skip
    assert (result.status, result.failed_step) == ("failed", "ruff")
    assert "F401 `os` imported but unused" in result.steps[2].detail


def test_a_ruff_diagnostic_there_before_the_patch_is_not_new_when_its_line_moves(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    # `import json` is unused before and after; the patch moves it down a line.
    result = verified(tmp_path, target, {"pkg/core.py": '"""Loading."""\n' + CORE.replace(
        "eval(text)", "int(text)")}, recheck=EvalAudit())  # fmt: skip
    assert statuses(result)["ruff"] == "passed"


def test_a_finding_still_reported_after_the_patch_fails_at_finding_gone(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    result = verified(tmp_path, target, {"pkg/core.py": "# loads\n" + CORE}, recheck=EvalAudit())
    assert (result.status, result.failed_step) == ("failed", "finding gone")
    assert "test-audit/EV1 at pkg/core.py:6" in result.steps[3].detail


def test_a_new_high_finding_fails_at_no_new_high(tmp_path: Path, target: tuple[Path, str]) -> None:
    shell = "import os\n\n\ndef load(text):\n    return os.system(text)\n"
    result = verified(tmp_path, target, {"pkg/core.py": shell}, recheck=EvalAudit())
    assert (result.status, result.failed_step) == ("failed", "no new high")
    assert "test-audit/SH1 at pkg/core.py:5" in result.steps[4].detail


def test_without_the_perspective_that_raised_it_the_patch_is_unverified(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    result = verified(tmp_path, target, {"pkg/core.py": FIXED}, recheck=None)
    assert result.status == "unverified"
    assert result.steps[3].reason == "could not run" and "Security Audit" in result.steps[3].detail


def test_a_diff_whose_base_changed_fails_at_applies(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    from tests.test_patching import git

    root, _ = target
    (root / "pkg/core.py").write_text(CORE.replace("eval(text)", "eval(text.strip())"))
    git(root, "commit", "-qam", "changed")
    result = verified(tmp_path, target, {"pkg/core.py": FIXED}, recheck=EvalAudit(),
                      commit=git(root, "rev-parse", "HEAD"))  # fmt: skip
    assert (result.status, result.failed_step) == ("failed", "applies")
    assert "does not apply" in result.steps[0].detail
    assert [s.reason for s in result.steps[1:]] == ["stopped"] * 5


def test_a_spec_test_with_tests_off_is_checked_and_needs_no_perspective(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    spec = ITEM.model_copy(update={"kind": "spec", "fingerprints": [], "spec_ids": ["s1"]})
    new = "tests/test_load_spec.py"
    result = verified(tmp_path, target, {new: TEST}, item=spec, new_tests=(new,))
    assert result.status == "checked"
    assert [(s.status, s.reason) for s in result.steps[3:]] == [
        ("not_run", "not allowed"),
        ("not_run", "not applicable"),
        ("not_run", "not allowed"),
    ]


def test_with_tests_on_a_patch_that_breaks_a_passing_test_fails_at_tests(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    broken = CORE.replace("eval(text)", "json.loads(text) + 1")
    result = verified(tmp_path, target, {"pkg/core.py": broken}, recheck=EvalAudit(), tests=True)
    assert (result.status, result.failed_step) == ("failed", "tests")
    assert "test_core::test_load" in result.steps[5].detail


def test_with_tests_on_a_fix_and_its_new_test_are_verified_and_the_test_failed_before(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    new = "tests/test_load_json.py"
    test = ("from pkg.core import load\n\n\ndef test_load_rejects_code():\n"
            "    try:\n        load('__import__(\"os\")')\n    except ValueError:\n"
            "        return\n    raise AssertionError('ran the code')\n")  # fmt: skip
    result = verified(tmp_path, target, {"pkg/core.py": FIXED, new: test}, recheck=EvalAudit(),
                      tests=True, new_tests=(new,), before_after=new)  # fmt: skip
    assert result.status == "verified", result.summary()
    assert "1 new test passed" in result.steps[5].detail
    assert result.before_after is not None
    assert result.before_after["before"]["outcome"] == "failed"
    assert result.before_after["after"]["outcome"] == "passed"
    assert result.before_after["failed_before_passed_after"] is True


def test_label_is_never_verified_without_the_tests_having_passed() -> None:
    static = [verify.Step(n, "passed", "") for n in verify.STATIC_STEPS]
    assert verify.label([*static, verify.Step("tests", "not_run", "", "not allowed")]) == "checked"
    assert verify.label([*static, verify.Step("tests", "not_run", "", "could not run")]) == (
        "unverified"
    )
    assert verify.label([*static, verify.Step("tests", "passed", "")]) == "verified"
    assert verify.label(static) == "unverified"


def test_with_tests_on_a_spec_test_that_collects_and_passes_is_verified(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    spec = ITEM.model_copy(update={"kind": "spec", "fingerprints": [], "spec_ids": ["s1"]})
    new = "tests/test_load_spec.py"
    result = verified(tmp_path, target, {new: TEST}, item=spec, new_tests=(new,), tests=True)
    assert result.status == "verified", result.summary()
    assert result.steps[3].detail == f"pytest collects 1 test from {new} in the patched copy"


def test_with_tests_on_a_spec_test_that_fails_is_failed_at_tests(
    tmp_path: Path, target: tuple[Path, str]
) -> None:
    spec = ITEM.model_copy(update={"kind": "spec", "fingerprints": [], "spec_ids": ["s1"]})
    new = "tests/test_load_spec.py"
    wrong = TEST.replace("== 1", "== 2")
    result = verified(tmp_path, target, {new: wrong}, item=spec, new_tests=(new,), tests=True)
    assert (result.status, result.failed_step) == ("failed", "tests")
    assert "new tests that do not pass: tests/test_load_spec.py: " in result.steps[5].detail


class SuffixedAudit(EvalAudit):
    """EvalAudit with the analysis worker's fingerprints for identical lines (``fp``, ``fp-1``)."""

    def run(self, ctx: RunContext) -> PerspectiveResult:
        found = super().run(ctx)
        found.findings = stable_fingerprints(found.findings)
        return found


TWICE = "def load(text):\n    return eval(text)\n\n\ndef again(text):\n    return eval(text)\n"


@pytest.mark.parametrize(("edit", "status"), [
    (TWICE.replace("eval(text)", "int(text)", 1), "checked"),  # the first of the two is fixed
    (TWICE + "# a comment\n", "failed"),  # neither is
])  # fmt: skip
def test_fixing_one_of_two_identical_lines_makes_its_finding_gone(
    tmp_path: Path, edit: str, status: str
) -> None:
    root = tmp_path / "twice"
    base = make_repo(root, {"pkg/__init__.py": "", "pkg/core.py": TWICE})
    item = ITEM.model_copy(update={"line": 2})
    result = verified(tmp_path, (root, base), {"pkg/core.py": edit}, item=item,
                      recheck=SuffixedAudit())  # fmt: skip
    assert result.status == status, result.steps


def test_a_diff_the_store_would_redact_fails_at_applies_rather_than_publish_another_patch(
    tmp_path: Path,
) -> None:
    """Rows are scrubbed of secrets when stored: a diff holding one (here on a context line)
    would be kept altered and would not apply, so it is not published as one that applies."""
    secret = "ghp_" + "x9" * 18
    code = f'def load(text):\n    token = "{secret}"\n    return eval(text)\n'
    root = tmp_path / "secret"
    base = make_repo(root, {"pkg/__init__.py": "", "pkg/core.py": code})
    fixed = code.replace("eval(text)", "int(text)")
    result = verified(tmp_path, (root, base), {"pkg/core.py": fixed}, recheck=EvalAudit())
    assert (result.status, result.failed_step) == ("failed", "applies")
    assert "redacted when stored" in result.steps[0].detail
    assert secret not in str(result.as_evidence())


def test_with_tests_on_a_module_the_tests_need_and_cannot_import_is_named_with_the_fix(
    tmp_path: Path,
) -> None:
    """The target's tests import a library the worker's environment lacks (flask's need
    werkzeug): the tests step says which, and how to make them run."""
    root = tmp_path / "needs"
    needing = "import werkzeug_not_installed.routing\n\n" + TEST
    base = make_repo(root, {"pkg/__init__.py": "", "pkg/core.py": CORE,
                            "tests/test_core.py": needing})  # fmt: skip
    result = verified(tmp_path, (root, base), {"pkg/core.py": FIXED}, recheck=EvalAudit(),
                      tests=True)  # fmt: skip
    tests_step = next(s for s in result.steps if s.name == "tests")
    assert tests_step.detail.startswith(
        "the tests import werkzeug_not_installed, which the worker's environment lacks: install "
        "it beside autocoder (pip install werkzeug_not_installed) so they can run."
    ), tests_step
    assert (tests_step.status, result.status) == ("not_run", "unverified")
