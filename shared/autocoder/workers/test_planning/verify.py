"""Running generated tests against the unmodified target, in a subprocess, outside its tree.

Only with ``AUTOCODER_RUN_TARGET_TESTS=1``: it executes the target's code. A generated test that
fails in the code under test is kept with status ``failed`` ("this fails today: possible bug");
one that broke on itself (it did not collect, a fixture failed, its own lines raised a TypeError
or NameError while building inputs, or a fault it injected into a fake never got raised: "DID NOT
RAISE", the call was not reached) is a broken test (:func:`without_broken` drops it); one whose
subject this environment cannot import is ``blocked``. Each says why in ``status_detail``. The
subjects' source folders go on ``PYTHONPATH``; a conftest sets Django up when
``DJANGO_SETTINGS_MODULE`` is set. pytest runs through :mod:`autocoder.engine.testrun`, in the
sandbox and the target's throwaway environment (:mod:`autocoder.engine.testenv`): of the
worker's environment it sees only ``DJANGO_SETTINGS_MODULE`` (and PYTHONPATH), never a token;
its HOME and working folder are temporary ones. What is left here is test planning's own: the
generated files, where their subjects import from, and what a test's outcome makes of its spec.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autocoder.engine import sandbox, testrun
from autocoder.engine.testrun import TestOutcome, TestRun
from autocoder.errors import ToolError, ToolTimeout
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.specs import BLOCKED

PER_TEST_TIMEOUT_S = testrun.PER_TEST_TIMEOUT_S  # one hung generated test cannot stall the batch
CONFTEST = '''"""Written by autocoder next to its generated tests: set up what the target configures
by environment, as the target's own test configuration would (Django: DJANGO_SETTINGS_MODULE)."""

import os
import warnings


def pytest_configure(config):
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        try:
            import django

            django.setup()
        except Exception as error:  # the tests that need it are then blocked, with the reason
            warnings.warn(f"django.setup() failed: {error!r}", stacklevel=1)
'''


def _write_tests(folder: Path, specs: list[TestSpec]) -> None:
    (folder / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    for spec in specs:
        (folder / f"test_{spec.id}.py").write_text(spec.test_code, encoding="utf-8")


def subject_roots(subjects: Iterable[tuple[str, str]]) -> list[str]:
    """The folders, relative to the checkout (``.`` itself first), that subjects (``pkg.mod:f``,
    its file) import from: ``shared`` for ``shared/pkg/mod.py`` named ``pkg.mod``; ``.`` for a
    flat layout and for a top-level folder without ``__init__.py`` (``bench/x.py`` is
    ``bench.x``, a namespace package importable only with its parent on the path)."""
    roots: dict[str, None] = {".": None}
    for subject, file in subjects:
        module = subject.partition(":")[0]
        parts = Path(file).with_suffix("").parts
        depth = len(module.split(".")) + (parts[-1:] == ("__init__",))
        roots[Path(*parts[:-depth]).as_posix() if len(parts) > depth else "."] = None
    return list(roots)


def source_roots(root: Path, specs: list[TestSpec]) -> list[Path]:
    """The folders the subjects import from (:func:`subject_roots`), under ``root``."""
    return [root / folder for folder in subject_roots((s.subject, s.file) for s in specs)]


def _run(
    root: Path,
    folder: Path,
    specs: list[TestSpec],
    timeout_s: float,
    memory_mb: int,
    collect_only: bool = False,
    cache_dir: Path | None = None,
) -> TestRun:
    """The generated tests in ``folder`` through :func:`autocoder.engine.testrun.run_tests`:
    the subjects' source roots (and the worker's own PYTHONPATH) importable, ``folder`` the
    working folder and rootdir (the target is on the path, but its checkout is never the working
    folder), modules that fail to collect reported and the others run."""
    paths = [*source_roots(root, specs), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    try:
        return testrun.run_tests(
            [folder], source_root=root, rootdir=folder, timeout_s=timeout_s, memory_mb=memory_mb,
            import_paths=[str(p) for p in paths if str(p)], collect_only=collect_only,
            per_test_timeout_s=PER_TEST_TIMEOUT_S, cache_dir=cache_dir,
            extra_args=["-o", "addopts=", "--continue-on-collection-errors"],
        )  # fmt: skip
    except ToolTimeout:
        raise ToolError(f"generated tests ran longer than {timeout_s:.0f}s in {root}") from None


def _status(test: TestOutcome, code: str = "") -> tuple[str, str]:
    """(spec status, detail) of one test: a skip is ``not_run``, a test whose subject this
    environment cannot import (the BLOCKED marker of the generated code) is ``blocked``, and a
    test that broke on its own code (:func:`broke_on_itself`) is an ``error`` whose detail starts
    with :data:`BROKEN`. Only a test that reached the subject can be ``failed``."""
    if BLOCKED in test.detail:
        return "blocked", test.detail
    if broke_on_itself(test) or missed_injected_fault(test, code) or needs_a_terminal(test):
        return "error", f"{BROKEN} {test.detail}"
    return ("not_run" if test.status == "skipped" else test.status), test.detail


BROKEN = "broken test:"  # how a status detail says the test, not the subject, is at fault
VERDICTS = ("AssertionError", "Failed")  # the test's own verdict on the subject
MACHINERY = ("/_pytest/", "/pytest/", "/pluggy/", "/unittest/mock.py", "/hypothesis/")


def broke_on_itself(test: TestOutcome) -> bool:
    """Whether a test failed for a reason in the test: it did not collect, a fixture failed in
    setup or teardown, or it raised from its own lines or from pytest's machinery (arguments
    that do not bind, an undefined name, ``pytest.raises`` of no exception) rather than from
    the code under test. A failed assertion or ``DID NOT RAISE`` is a verdict, not a break."""
    if test.status == "error":
        return True
    if test.status != "failed" or test.raised in VERDICTS:
        return False
    where = "/" + test.where.replace("\\", "/")
    own = Path(test.where).name in (f"test_{_spec_id_of(test)}.py", "conftest.py")
    return own or any(part in where for part in MACHINERY)


INJECTED = ".side_effect = "  # how a generated test makes a faked boundary raise


def missed_injected_fault(test: TestOutcome, code: str) -> bool:
    """Whether a test that injects a fault into a fake (``fake.side_effect = Error``) failed on
    ``DID NOT RAISE``: the sample arguments never reached the faked call, so the test proves
    nothing about the code (a missing path is not a bug)."""
    return (
        test.status == "failed"
        and test.raised == "Failed"
        and "DID NOT RAISE" in test.detail
        and INJECTED in code
    )


TERMINAL = ("reading from stdin while output is captured", "'/dev/tty'", "EOF when reading a line")
# The framework's own words for "called outside the context it documents it needs".
FRAMEWORK_CONTEXT = ("Working outside of application context", "Working outside of request "
                     "context", "There is no active click context", "Apps aren't loaded yet",
                     "settings are not configured")  # fmt: skip


def needs_a_terminal(test: TestOutcome) -> bool:
    """Whether a test failed because the code waited for a person at a terminal (``input()``,
    a prompt, ``/dev/tty``) or needs a framework context the test never set up (Flask's
    application or request context, an active click context, Django's settings): no generated
    test answers a prompt or builds that context, so the failure says nothing of the code."""
    signs = (*TERMINAL, *FRAMEWORK_CONTEXT)
    said = f"{test.detail}\n{test.message}"
    return test.status == "failed" and any(sign in said for sign in signs)


def is_broken(spec: TestSpec) -> bool:
    """Whether the run found the spec's test broken: drop it, never report a possible bug."""
    return spec.status == "error" and spec.status_detail.startswith(BROKEN)


def without_broken(specs: list[TestSpec]) -> tuple[list[TestSpec], dict[str, str]]:
    """The specs whose tests are not broken, and spec id -> why for those that are."""
    broken = {s.id: f"{s.subject}: {s.status_detail}" for s in specs if is_broken(s)}
    return [s for s in specs if s.id not in broken], broken


def _spec_id_of(test: TestOutcome) -> str:
    """The spec a test came from: its module ``test_<id>``, or for a module-level skip or
    collection error (empty classname) the file named in the test's name."""
    module = test.classname.rsplit(".", 1)[-1]
    if not module:
        module = Path(test.name.split("::")[0]).stem
    return module.removeprefix("test_")


def run_generated_tests(
    root: Path,
    specs: list[TestSpec],
    timeout_s: float,
    memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
    cache_dir: Path | None = None,
) -> list[TestSpec]:
    """The specs with ``status`` set from running their tests (a spec's worst test wins), in
    the target's throwaway test environment (kept under ``cache_dir``, else a temporary one)."""
    if not specs:
        return specs
    order = {"passed": 0, "not_run": 1, "blocked": 2, "failed": 3, "error": 4}
    with tempfile.TemporaryDirectory(prefix="autocoder-generated-") as tmp:
        _write_tests(Path(tmp), specs)
        run = _run(root, Path(tmp), specs, timeout_s, memory_mb, cache_dir=cache_dir)
    status: dict[str, tuple[str, str]] = {}
    code = {s.id: s.test_code for s in specs}
    for test in run.outcomes:
        spec_id = _spec_id_of(test)
        outcome = _status(test, code.get(spec_id, ""))
        if order[outcome[0]] >= order[status.get(spec_id, ("passed", ""))[0]]:
            status[spec_id] = outcome
    missing = ("error", "pytest reported nothing for this test (crashed or timed out)")
    updates = {s.id: status.get(s.id, missing) for s in specs}
    return [
        s.model_copy(update={"status": updates[s.id][0], "status_detail": updates[s.id][1]})
        for s in specs
    ]


@dataclass(frozen=True)
class Collection:
    """What ``pytest --collect-only`` made of the generated tests (nothing is run)."""

    items: int  # test items collected
    blocked: dict[str, str]  # spec id -> why the environment cannot import its subject
    errors: dict[str, str]  # spec id -> why its test module does not collect
    output: str


def collect_generated_tests(
    root: Path,
    specs: list[TestSpec],
    timeout_s: float = 300,
    memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
) -> Collection:
    """Collect the specs' tests: how many items, which specs the environment blocks, and which
    fail to collect (read from pytest's junit report, not from its console summary)."""
    blocked: dict[str, str] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="autocoder-collect-") as tmp:
        _write_tests(Path(tmp), specs)
        run = _run(root, Path(tmp), specs, timeout_s, memory_mb, collect_only=True)
    for test in run.outcomes:
        status = _status(test)[0]
        found = blocked if status == "blocked" else errors if status == "error" else {}
        found[_spec_id_of(test)] = test.detail
    return Collection(run.collected, blocked, errors, run.output)
