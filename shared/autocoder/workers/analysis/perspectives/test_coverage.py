"""Test Coverage Analysis: the modules and public names tests reach, plus optional line coverage.

Every Python file is parsed with :mod:`ast` (cached per content); the tests' imports and dotted
references, resolved through their import aliases, are matched against the other modules' top-level
definitions. Line coverage runs the target's test suite under coverage.py, only when
``run_target_tests`` is on, because that executes the target's code.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from autocoder.engine import toolkit
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.sources import SourceFiles
from autocoder.errors import PerspectiveSkipped, ToolError
from autocoder.schema import Finding

TOOL = "test-map"
SCAN_VERSION = f"1-py{sys.version_info.major}.{sys.version_info.minor}"
TOP = 10
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def is_test_file(path: str) -> bool:
    """test_*.py, *_test.py, conftest.py, or any Python file under a ``tests``/``test`` folder."""
    *dirs, name = path.split("/")
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(d in {"tests", "test"} for d in dirs)
    )


class TestCoverageAnalysis:
    """Static test-to-code mapping plus, when allowed, line coverage of the target's test suite."""

    __test__ = False
    id: ClassVar[str] = "test_coverage"
    name: ClassVar[str] = "Test Coverage Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        src = ctx.sources
        if not src.python:
            raise PerspectiveSkipped(f"no Python files in {ctx.root}")
        scans = toolkit.cached_per_file(
            ctx.cache, TOOL, SCAN_VERSION, src, src.python,
            lambda files: {f: _scan(src.path(f)) for f in files},
        )  # fmt: skip
        tests = [f for f in src.python if is_test_file(f)]
        findings, metrics = _static_findings(
            src, _code_modules(src, scans), _Reached.of(src, scans, tests)
        )
        result = PerspectiveResult(summary="", metrics=metrics, tools={"python-ast": SCAN_VERSION})
        metrics["test_files"] = len(tests)
        metrics["unparsed_files"] = sorted(f for f, s in scans.items() if "error" in s)[:TOP]
        _add_line_coverage(ctx, result)
        result.findings = toolkit.stable_fingerprints(findings)
        metrics["by_severity"] = toolkit.count_by(result.findings, "severity")
        metrics["by_rule"] = toolkit.count_by(result.findings, "rule")
        result.summary = _summary(result)
        return result


@dataclass(frozen=True)
class _Module:
    name: str
    file: str
    lines: int
    defs: list[tuple[str, int, str]]  # public top-level (name, line, kind)


@dataclass
class _Reached:
    """Every dotted name (with its prefixes) that the tests import or reference."""

    names: set[str] = field(default_factory=set)
    star_names: dict[str, set[str]] = field(default_factory=dict)  # star-imported module -> names

    @classmethod
    def of(cls, sources: SourceFiles, scans: dict[str, Any], tests: list[str]) -> _Reached:
        packages = _packages(sources)
        reached = cls()
        for test in (t for t in tests if "error" not in scans[t]):
            name = _module_name(test, packages)
            package = name if test.endswith("__init__.py") else name.rpartition(".")[0]
            for ref in scans[test]["refs"]:
                parts = _absolute(ref, package).split(".")
                reached.names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            for star in scans[test]["stars"]:
                names = reached.star_names.setdefault(_absolute(star, package), set())
                names.update(scans[test]["names"])
        return reached

    def imports_module(self, module: str) -> bool:
        return module in self.names or module in self.star_names

    def references(self, module: str, name: str) -> bool:
        """``module.name``, the name re-exported by an ancestor package, or used after ``*``."""
        parts = module.split(".")
        owners = (".".join(parts[:i]) for i in range(len(parts), 0, -1))
        star = self.star_names.get(module, set())
        return name in star or any(f"{owner}.{name}" in self.names for owner in owners)


def _scan(path: Path) -> dict[str, Any]:
    """A file's public top-level definitions and the dotted names it imports or references."""
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning for the target's invalid escapes
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError) as exc:
        return {"error": type(exc).__name__}
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    defs = [[n.name, n.lineno, "class" if isinstance(n, ast.ClassDef) else "function"]
            for n in body if isinstance(n, _DEFS) and not n.name.startswith("_")]  # fmt: skip
    aliases, refs, stars = _imports(tree)
    for node in ast.walk(tree):
        head, _, rest = (_dotted(node) or "").partition(".")
        if head in aliases:
            refs.add(aliases[head] + (f".{rest}" if rest else ""))
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}) if stars else []
    return {"defs": defs, "statements": len(body), "refs": sorted(refs), "stars": sorted(stars),
            "names": names}  # fmt: skip


def _imports(tree: ast.AST) -> tuple[dict[str, str], set[str], set[str]]:
    """Local name -> dotted name it is bound to; every imported name; star-imported modules."""
    aliases: dict[str, str] = {}
    refs: set[str] = set()
    stars: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                aliases[a.asname or top] = a.name if a.asname else top
                refs.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            refs.add(base)
            stars.update(base for a in node.names if a.name == "*")
            for a in (a for a in node.names if a.name != "*"):
                aliases[a.asname or a.name] = (
                    base + a.name if base.endswith(".") else f"{base}.{a.name}"
                )
                refs.add(aliases[a.asname or a.name])
    return aliases, refs, stars


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (inner := _dotted(node.value)):
        return f"{inner}.{node.attr}"
    return None


def _absolute(ref: str, package: str) -> str:
    """Resolve a relative import (``.x``, ``..y``) against the importing file's package."""
    level = len(ref) - len(ref.lstrip("."))
    if level == 0:
        return ref
    base = package.split(".") if package else []
    base = base[: len(base) - level + 1] if level > 1 else base
    return ".".join([*base, ref[level:]] if ref[level:] else base)


def _packages(sources: SourceFiles) -> set[str]:
    return {f.rpartition("/")[0] for f in sources.files if f.rpartition("/")[2] == "__init__.py"}


def _module_name(path: str, packages: set[str]) -> str:
    """shop/pricing.py -> shop.pricing, src/pkg/__init__.py -> pkg: walks up the __init__ chain."""
    dirs = path.split("/")[:-1]
    start = len(dirs)
    while start > 0 and "/".join(dirs[:start]) in packages:
        start -= 1
    parts = path.removesuffix(".py").split("/")[start:]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _code_modules(sources: SourceFiles, scans: dict[str, Any]) -> list[_Module]:
    """The non-test modules that parse and have a statement besides the docstring."""
    packages = _packages(sources)
    modules = []
    for f in (f for f in sources.python if not is_test_file(f) and f != "setup.py"):
        name, scan = _module_name(f, packages), scans[f]
        importable = all(part.isidentifier() for part in name.split("."))
        if importable and "error" not in scan and scan["statements"]:
            defs = [(d[0], int(d[1]), d[2]) for d in scan["defs"]]
            modules.append(_Module(name, f, len(sources.lines(f)), defs))
    return modules


def _static_findings(
    src: SourceFiles, modules: list[_Module], reached: _Reached
) -> tuple[list[Finding], dict[str, Any]]:
    findings: list[Finding] = []
    untested = [m for m in modules if not reached.imports_module(m.name)]
    for m in untested:
        findings.append(toolkit.finding(
            src, tool=TOOL, rule="untested-module", severity="medium" if m.defs else "low",
            file=m.file, line=1, anchor=m.name,
            message=f"module {m.name} ({m.lines} lines, {len(m.defs)} public names) is imported "
                    "by no test",
        ))  # fmt: skip
    public = [(m, d) for m in modules for d in m.defs]
    missed = [(m, d) for m, d in public if not reached.references(m.name, d[0])]
    untested_names = {m.name for m in untested}
    for m, (name, line, kind) in missed:
        findings.append(toolkit.finding(
            src, tool=TOOL, rule="unreferenced-public", file=m.file, line=line,
            severity="info" if m.name in untested_names else "low", anchor=f"{m.name}.{name}",
            message=f"public {kind} {m.name}.{name} is referenced by no test",
        ))  # fmt: skip
    largest = sorted(untested, key=lambda m: (-m.lines, m.file))[:TOP]
    return findings, {
        "modules_total": len(modules),
        "modules_tested": len(modules) - len(untested),
        "modules_tested_ratio": _ratio(len(modules) - len(untested), len(modules)),
        "public_total": len(public),
        "public_referenced": len(public) - len(missed),
        "public_referenced_ratio": _ratio(len(public) - len(missed), len(public)),
        "untested_modules_per_kloc": toolkit.per_kloc(len(untested), toolkit.kloc(src)),
        "largest_untested_modules": [{"module": m.name, "file": m.file, "lines": m.lines}
                                     for m in largest],
    }  # fmt: skip


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def _add_line_coverage(ctx: RunContext, result: PerspectiveResult) -> None:
    if not ctx.options.run_target_tests:
        result.skipped["line coverage"] = "skipped: AUTOCODER_RUN_TARGET_TESTS is not 1"
        return
    if importlib.util.find_spec("pytest") is None:
        result.skipped["line coverage"] = "skipped: pytest is not installed; pip install pytest"
        return
    try:
        version = toolkit.require_module("coverage", "coverage")
        raw = toolkit.cached_whole_tree(
            ctx.cache, "coverage-pytest", version, ctx.sources, ctx.sources.files,
            lambda: _measure(ctx),
        )  # fmt: skip
    except ToolError as exc:
        result.skipped["line coverage"] = f"skipped: {exc}"
        return
    result.tools["coverage"] = version
    if "error" in raw:
        result.skipped["line coverage"] = f"skipped: {raw['error']}"
    else:
        result.metrics["line_coverage"] = _coverage_metrics(raw)


def _measure(ctx: RunContext) -> dict[str, Any]:
    """Run the target's tests under coverage.py: {file: [covered, statements]} and the outcome."""
    timeout = ctx.options.tool_timeout_s
    with tempfile.TemporaryDirectory(prefix="autocoder-cov-") as tmp:
        data, out = str(Path(tmp) / "coverage.data"), str(Path(tmp) / "coverage.json")
        run = toolkit.run_tool(
            ["coverage", "run", "--data-file", data, "--source", ".",
             "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
            cwd=ctx.root, timeout_s=timeout, ok_codes=(0, 1, 2, 5),
            env={"PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip
        if run.returncode == 5:
            return {"error": "pytest collected no tests in the target"}
        toolkit.run_tool(["coverage", "json", "--data-file", data, "-o", out], cwd=ctx.root,
                         timeout_s=timeout, ok_codes=(0,))  # fmt: skip
        report = json.loads(Path(out).read_text(encoding="utf-8"))
    tail = [line.strip() for line in run.stdout.splitlines() if line.strip()]
    files = {toolkit.relative(ctx.root, name): [e["summary"]["covered_lines"],
                                                e["summary"]["num_statements"]]
             for name, e in report.get("files", {}).items()}  # fmt: skip
    return {"exit_code": run.returncode, "outcome": tail[-1][:200] if tail else "", "files": files}


def _coverage_metrics(raw: dict[str, Any]) -> dict[str, Any]:
    """Totals over the measured non-test files, and the least covered of them."""
    rows = [(f, c, n) for f, (c, n) in raw["files"].items() if not is_test_file(f) and n > 0]
    covered, statements = sum(r[1] for r in rows), sum(r[2] for r in rows)
    least = sorted(rows, key=lambda r: (r[1] / r[2], -r[2], r[0]))[:TOP]
    return {
        "percent": round(100.0 * covered / statements, 1) if statements else 0.0,
        "covered_lines": covered, "statements": statements, "files_measured": len(rows),
        "pytest_exit_code": raw["exit_code"], "pytest_outcome": raw["outcome"],
        "least_covered": [{"file": f, "percent": round(100.0 * c / n, 1), "statements": n}
                          for f, c, n in least],
    }  # fmt: skip


def _summary(result: PerspectiveResult) -> str:
    m = result.metrics
    text = (
        f"{m['modules_tested']} of {m['modules_total']} modules are imported by at least one of "
        f"{m['test_files']} test files ({m['modules_tested_ratio']:.0%}), and "
        f"{m['public_referenced']} of {m['public_total']} public functions and classes are "
        f"referenced directly by a test ({m['public_referenced_ratio']:.0%})."
    )
    if m["largest_untested_modules"]:
        worst = ", ".join(e["module"] for e in m["largest_untested_modules"][:3])
        text += f" Largest untested modules: {worst}."
    if m["unparsed_files"]:
        text += f" {len(m['unparsed_files'])} file(s) did not parse and were left out."
    if cov := m.get("line_coverage"):
        text += (
            f" The test suite ({cov['pytest_outcome'] or 'no outcome line'}) covered "
            f"{cov['percent']}% of {cov['statements']} statements in {cov['files_measured']} files."
        )
    return text + "".join(f" {part.capitalize()}: {why}." for part, why in result.skipped.items())
