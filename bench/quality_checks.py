"""What ``bench_quality.py`` checks in a tree written by ``autocoder tests --write``: whether each
generated test is structural (an AST check), and how the tests fare under pytest.

A test is *structural* when it checks the shape of the code, not its behaviour: every assert only
compares results of ``inspect.*`` (signature, getsource...), ``callable``, ``isinstance``,
``issubclass``, ``hasattr`` or ``type`` (through names assigned from them, comprehensions over
them, ``len``/``sorted``/``re.*`` and the like, and constants), or it has no assert at all and no
``pytest.raises`` nor mock ``assert_*`` call.
"""

from __future__ import annotations

import ast
import os
import resource
import site
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

SHAPE_CALLS = frozenset({"callable", "isinstance", "issubclass", "hasattr", "type"})
PASS_THROUGH = frozenset({"len", "list", "tuple", "set", "frozenset", "sorted", "str", "repr",
                          "bool", "any", "all", "dict", "next", "iter"})  # fmt: skip
PER_TEST_TIMEOUT_S = 30
MEMORY_BYTES = 4 << 30


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return ""


def _shape_only(node: ast.AST, derived: set[str]) -> bool:
    """Whether ``node`` computes nothing but the shape of the code (or a constant)."""
    if isinstance(node, ast.Call):
        name = _call_name(node.func)
        if name in SHAPE_CALLS or name.startswith("inspect."):
            return True  # whatever it inspects
        args = [*node.args, *(k.value for k in node.keywords)]
        if name in PASS_THROUGH or name.startswith("re."):
            return all(_shape_only(a, derived) for a in args)
        if isinstance(node.func, ast.Attribute):  # a method of a shape: sig.parameters.values()
            return _shape_only(node.func.value, derived) and all(
                _shape_only(a, derived) for a in args
            )
        return False
    if isinstance(node, ast.Name):
        return node.id in derived or node.id in ("None", "True", "False")
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        inner = set(derived)
        for generator in node.generators:
            if not _shape_only(generator.iter, inner):
                return False
            inner |= {n.id for n in ast.walk(generator.target) if isinstance(n, ast.Name)}
        parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        return all(_shape_only(p, inner) for p in parts)
    return all(_shape_only(child, derived) for child in ast.iter_child_nodes(node))


def _derived_names(test: ast.AST) -> set[str]:
    """Names the test assigns from shapes or constants (``sig = inspect.signature(f)``), and loop
    variables over them; two passes so an order of assignments does not matter."""
    derived: set[str] = set()
    for _ in range(2):
        for node in ast.walk(test):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = node.value
            elif isinstance(node, ast.For):
                targets, value = [node.target], node.iter
            else:
                continue
            if _shape_only(value, derived):
                derived |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return derived


def is_structural(test: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if name in ("pytest.raises", "raises") or attr.startswith("assert"):
                return False  # an expected exception, or a mock's recorded calls
    derived = _derived_names(test)
    return all(_shape_only(n.test, derived) for n in ast.walk(test) if isinstance(n, ast.Assert))


def _tests_of(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    functions = (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    return [f for f in functions if f.name.startswith("test")]


def structural_summary(tests_dir: Path) -> dict[str, Any]:
    """Files written (and those that do not compile), test functions, and the structural ones,
    also per perspective folder (``test_<perspective>/``)."""
    files = (
        sorted(p for p in tests_dir.rglob("test_*.py") if p.is_file()) if tests_dir.is_dir() else []
    )
    broken, no_check, tests, structural = 0, 0, Counter[str](), Counter[str]()
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            compile(tree, str(path), "exec")
        except (SyntaxError, ValueError):
            broken += 1
            continue
        folder = path.parent.name
        for test in _tests_of(tree):
            tests[folder] += 1
            structural[folder] += is_structural(test)
            no_check += not any(isinstance(n, ast.Assert) for n in ast.walk(test))
    return {
        "files": len(files), "files_not_compiling": broken, "tests": sum(tests.values()),
        "structural": sum(structural.values()), "without_assert": no_check,
        "structural_by_folder": {f: [structural[f], n] for f, n in sorted(tests.items())},
    }  # fmt: skip


def import_roots(target: Path, deps: Path) -> list[Path]:
    """Where the target's packages are (``src/`` in a src layout, else the root), then ``deps``
    when it exists: the target's runtime dependencies that the interpreter lacks, installed
    there with ``pip install --target`` (Flask's werkzeug, itsdangerous, blinker)."""
    source = target / "src" if (target / "src").is_dir() else target
    return [source, deps] if deps.is_dir() else [source]


def _site_listing() -> set[str]:
    """The distributions and modules of the interpreter's site-packages, to see a test change it."""
    return {
        f"{d}/{name}" for d in site.getsitepackages() if os.path.isdir(d) for name in os.listdir(d)
    }


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def _junit_counts(junit: Path) -> dict[str, int]:
    counts = Counter[str]()
    if junit.exists():
        for case in ET.parse(junit).getroot().iter("testcase"):
            outcome = next(
                (c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed"
            )
            counts[{"failure": "failed", "error": "errors"}.get(outcome, outcome)] += 1
    return {
        "collected": sum(counts.values()),
        **{k: counts[k] for k in ("passed", "failed", "errors", "skipped")},
    }


def run_written_tests(
    tests_dir: Path, target: Path, work: Path, *, deps: Path, timeout_s: float
) -> dict[str, Any]:
    """The written tests under ``python -I -B -m pytest`` as the sandbox runs target code: a
    temporary HOME, TMPDIR and working folder (never the target root), a clean PATH, no inherited
    variable, the target's source ahead of site-packages (pytest's ``pythonpath``), 30 s a test,
    a 4 GB address-space limit, and the whole process group killed at ``timeout_s``."""
    junit = work / "junit.xml"
    before = _site_listing()
    with tempfile.TemporaryDirectory(prefix="bench-quality-run-") as tmp:
        home, cwd = Path(tmp, "home"), Path(tmp, "cwd")
        home.mkdir()
        cwd.mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8",
               "HYPOTHESIS_STORAGE_DIRECTORY": str(home / "hypothesis")}  # fmt: skip
        roots = " ".join(str(r) for r in import_roots(target, deps))
        command = [sys.executable, "-I", "-B", "-m", "pytest", "-p", "no:cacheprovider", "-q",
                   "--rootdir", str(tests_dir), "-o", f"pythonpath={roots}",
                   "-o", f"timeout={PER_TEST_TIMEOUT_S}", f"--junitxml={junit}",
                   str(tests_dir)]  # fmt: skip
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                preexec_fn=_limit_memory)  # fmt: skip  # noqa: PLW1509 (no thread here)
        try:
            output, _ = proc.communicate(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            output, _ = proc.communicate()
            timed_out = True
        left = sorted(p.relative_to(tmp).as_posix() for p in Path(tmp).rglob("*") if p.is_file())
    (work / "pytest.log").write_text(output)
    changed = sorted(before ^ _site_listing())
    return {"rc": proc.returncode, "timed_out": timed_out, **_junit_counts(junit),
            "summary": output.strip().splitlines()[-1:] if output.strip() else [],
            "files_left_in_home_or_cwd": len(left), "site_packages_changed": changed}  # fmt: skip
