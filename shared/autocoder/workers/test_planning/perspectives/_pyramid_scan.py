"""The Test Pyramid perspective's scan: what each test and each function touches, and levels.

Per file (cached by content): a test file's tests and fixtures with the boundaries, marks and
test-class bases that give their level; a code file's functions with the boundaries they reach,
the parameters they write or read as paths and the environment variables they read.
:class:`Pyramid` then gives every test its level (unit, integration, end-to-end). Used by
:mod:`.test_pyramid`.
"""

from __future__ import annotations

import ast
from pathlib import PurePosixPath
from typing import Any

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.inventory import Inventory
from autocoder.workers.test_planning.perspectives._safe_calls import dotted, parse_file

TOOL, VERSION = "autocoder-tp-test_pyramid", f"{__version__}-1"
LEVELS = ("unit", "integration", "end-to-end")
BOUNDARIES = {"requests": "network", "httpx": "network", "urllib": "network", "socket": "network",
              "aiohttp": "network", "TestClient": "network", "sqlite3": "database",
              "psycopg2": "database", "sqlalchemy": "database", "execute": "database",
              "subprocess": "subprocess", "os.system": "subprocess", "CliRunner": "subprocess",
              "sys.executable": "subprocess", "open": "filesystem", "read_text": "filesystem",
              "write_text": "filesystem", "os.replace": "filesystem", "os.remove": "filesystem",
              "tempfile": "filesystem", "os.environ": "environment",
              "os.getenv": "environment"}  # fmt: skip
IN_TESTS = {"subprocess": 2, "environment": 0}  # a test's level per boundary kind, else 1
FIXTURES = {"tmp_path": 1, "tmpdir": 1, "tmp_path_factory": 1, "tmpdir_factory": 1, "client": 1,
            "db": 1, "database": 1, "db_session": 1, "live_server": 1, "httpserver": 1,
            "page": 2, "browser": 2, "script_runner": 2}  # fmt: skip
MARKS = {"integration": 1, "e2e": 2, "end_to_end": 2, "acceptance": 2, "system": 2}
FOLDERS = {**MARKS, "integration_tests": 1, "functional": 2}
TEST_CLASS = ("Test", "Tests", "TestCase")
LIVE = ("LiveServer", "Selenium", "Playwright")
MOVES = ("os.replace", "os.rename", "shutil.move")  # (source, destination): writes the second


def _kind(node: ast.AST) -> tuple[str, str] | None:
    """(boundary kind, name) of a call, subscript or attribute that reaches the outside."""
    target = node.func if isinstance(node, ast.Call) else getattr(node, "value", node)
    name = dotted(node if isinstance(node, ast.Attribute) else target)
    for prefix, kind in BOUNDARIES.items():
        if name == prefix or name.startswith(prefix + ".") or name.split(".")[-1] == prefix:
            return kind, name
    return None


def _marks(decorators: list[ast.expr]) -> list[str]:
    return [m for d in decorators for m in MARKS if f"mark.{m}" in ast.unparse(d)]


def _test_entry(func: ast.FunctionDef | ast.AsyncFunctionDef, marks: list[str]) -> dict[str, Any]:
    found = [
        k for n in ast.walk(func) if isinstance(n, ast.Call | ast.Attribute) and (k := _kind(n))
    ]
    return {
        "params": [a.arg for a in func.args.args if a.arg not in ("self", "cls")],
        "signals": [[IN_TESTS.get(kind, 1), name] for kind, name in found],
        "marks": marks + _marks(func.decorator_list),
    }


def _test_class(node: ast.stmt, django: bool) -> list[list[Any]] | None:
    """None unless ``node`` is a test class (pytest ``Test*`` or unittest style); else the
    levels its bases give: a live server or browser is end-to-end, a database test case is
    integration (``TransactionTestCase``, Django's ``TestCase``)."""
    if not isinstance(node, ast.ClassDef):
        return None
    bases = [dotted(b) for b in node.bases]
    names = (node.name, *(b.split(".")[-1] for b in bases))
    if not (node.name.startswith("Test") or any(n.endswith(TEST_CLASS) for n in names)):
        return None
    found = [[2, f"base {b}"] for b in bases if any(w in b for w in LIVE)]
    found += [[1, f"base {b} (database)"] for b in bases if b.endswith("TransactionTestCase")
              or b == "django.test.TestCase" or (b == "TestCase" and django)]  # fmt: skip
    return found


def scan_test_file(tree: ast.Module) -> dict[str, Any]:
    """Tests (top level and in test classes) and fixtures, with what each touches."""
    tests: list[dict[str, Any]] = []
    fixtures: dict[str, Any] = {}
    module_marks = [m for n in tree.body if isinstance(n, ast.Assign) and "pytestmark" in
                    ast.unparse(n) for m in MARKS if f"mark.{m}" in ast.unparse(n)]  # fmt: skip
    django = any(isinstance(n, ast.ImportFrom) and n.module == "django.test" for n in tree.body)
    for node in tree.body:
        inherited = _test_class(node, django)
        owner = node if isinstance(node, ast.ClassDef) and inherited is not None else None
        marks = module_marks + _marks(owner.decorator_list if owner else [])
        for func in owner.body if owner else [node]:
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if any("fixture" in ast.unparse(d) for d in func.decorator_list):
                fixtures[func.name] = _test_entry(func, [])
            elif func.name.startswith("test"):
                entry = _test_entry(func, marks)
                entry["signals"] += inherited or []
                tests.append({**entry, "name": func.name, "line": func.lineno})
    texts = {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    return {"tests": tests, "fixtures": fixtures, "texts": sorted(t for t in texts if len(t) < 120)}


def _code_facts(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Any]:
    """Boundaries of a function, the parameters it writes or reads as paths, the env it reads."""
    params = {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
    nodes = list(ast.walk(func))
    facts: dict[str, Any] = {
        "writes": [], "reads": [], "env": [], "boundaries": [],
        "returns": any(isinstance(n, ast.Return) and n.value for n in nodes),
        "guarded": any(isinstance(n, ast.ExceptHandler) for n in nodes),
    }  # fmt: skip
    for n in (n for n in nodes if isinstance(n, ast.Call | ast.Subscript)):
        kind, name = _kind(n) or ("", "")
        facts["boundaries"] += [[kind, name, n.lineno]] if kind else []
        args = n.args if isinstance(n, ast.Call) else [n.slice]
        path = args[name in MOVES] if len(args) > (name in MOVES) else None
        if isinstance(n, ast.Call) and isinstance(path, ast.Name) and path.id in params:
            _path_use(facts, n, name, path.id)
        if kind == "environment" and args and isinstance(args[0], ast.Constant):
            facts["env"].append([str(args[0].value), n.lineno])
    return facts


def _path_use(facts: dict[str, Any], call: ast.Call, name: str, param: str) -> None:
    """Record that ``call`` writes or reads the file named by ``param``."""
    if name not in ("open", "sqlite3.connect", *MOVES):
        return
    modes = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "mode")]
    mode = str(getattr(modes[0], "value", "r")) if modes else "r"
    writes = name != "open" or any(m in mode for m in "wax")
    facts["writes" if writes else "reads"].append([param, name, call.lineno])


def _scan_file(ctx: RunContext, file: str) -> dict[str, Any]:
    """A test file's tests and fixtures, or a code file's functions and what they touch."""
    tree = parse_file(ctx, file)
    if tree is None:
        return {}
    if is_test_file(file):
        return scan_test_file(tree)
    return {
        f"{node.name}.{f.name}" if isinstance(node, ast.ClassDef) else f.name: _code_facts(f)
        for node in tree.body
        for f in (node.body if isinstance(node, ast.ClassDef) else [node])
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def file_facts(ctx: RunContext) -> dict[str, Any]:
    """Every Python file's scan, cached by content."""
    return cached_per_file(
        ctx.cache, TOOL, VERSION, ctx.sources, ctx.sources.python,
        lambda miss: {f: _scan_file(ctx, f) for f in miss}, default={},
    )  # fmt: skip


class Pyramid:
    """Every test of the target with its level, and the levels of tests that import each module."""

    def __init__(self, inventory: Inventory, facts: dict[str, Any]) -> None:
        self.inventory, self.facts = inventory, facts
        self.files = sorted(f for f in facts if is_test_file(f) and "tests" in facts[f])
        self.tests = [t for f in self.files for t in self._classify(f)]
        self.e2e_texts = [text for f in {t["file"] for t in self.tests if t["level"] == LEVELS[2]}
                          for text in facts[f]["texts"]]  # fmt: skip
        self.reached: dict[str, set[int]] = {}
        for test in self.tests:
            for i in self.inventory.imports.get(test["file"], []):
                for module in {i, i.rsplit(".", 1)[0]} & set(inventory.modules):
                    self.reached.setdefault(module, set()).add(LEVELS.index(test["level"]))

    def _fixtures(self, file: str) -> dict[str, Any]:
        parents = set(PurePosixPath(file).parents)
        visible: dict[str, Any] = {}
        for conftest in sorted(f for f in self.files if f.endswith("conftest.py")
                               and PurePosixPath(f).parent in parents):  # fmt: skip
            visible.update(self.facts[conftest]["fixtures"])
        return {**visible, **self.facts[file]["fixtures"]}

    def _level(self, entry: dict[str, Any], fixtures: dict[str, Any], seen: set[str]) -> list[Any]:
        found = [*entry["signals"], *([MARKS[m], f"@mark.{m}"] for m in entry["marks"])]
        for param in entry["params"]:
            if param in FIXTURES:
                found.append([FIXTURES[param], f"fixture {param}"])
            elif param in fixtures and param not in seen:
                level, why = self._level(fixtures[param], fixtures, seen | {param})
                found.append([level, f"fixture {param} ({why})"])
        return max(found, default=[0, "no I/O, process or client"], key=lambda f: int(f[0]))

    def _classify(self, file: str) -> list[dict[str, Any]]:
        fixtures, path = self._fixtures(file), PurePosixPath(file)
        folder = max([[FOLDERS.get(p, 0), f"in {p}/"] for p in path.parts[:-1]] or [[0, ""]])
        return [
            {"file": file, "name": t["name"], "line": t["line"], "level": LEVELS[level], "why": why}
            for t in self.facts[file]["tests"]
            for level, why in [max(self._level(t, fixtures, set()), folder, key=lambda f: f[0])]
        ]  # fmt: skip
