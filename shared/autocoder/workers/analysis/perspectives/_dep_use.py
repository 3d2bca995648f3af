"""How a project uses a dependency without importing it, and which imports are optional.

Import scanners see ``import x`` only. A Django project names its apps, middleware and backends
as dotted strings in its settings; a package names modules in its entry points; a deployment
starts ``gunicorn`` from a Procfile or Dockerfile. Each counts as use. An import inside
``try: ... except ImportError`` is optional by design, not an undeclared dependency.
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field

from autocoder.engine.modules import BENCH_DIRS, DOCS_DIRS, EXAMPLE_DIRS, is_test_file
from autocoder.engine.sources import SourceFiles
from autocoder.workers.analysis.perspectives._dep_names import USED_WITHOUT_IMPORT, import_names
from autocoder.workers.analysis.perspectives._requirements import normalise_name

_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")  # an app label or a dotted path
_COMMAND_FILE = re.compile(
    r"(^|/)(Procfile|Dockerfile[^/]*|[^/]*compose[^/]*\.ya?ml|Makefile|tox\.ini|app\.ya?ml|"
    r"fly\.toml|supervisord\.conf)$"
)
_DRIVERS = {
    "postgres": ("psycopg2", "psycopg2-binary", "psycopg", "psycopg-binary", "asyncpg"),
    "mysql": ("mysqlclient", "pymysql", "aiomysql"),
    "oracle": ("oracledb", "cx-oracle"),
}
_DEV_DIRS = DOCS_DIRS | EXAMPLE_DIRS | BENCH_DIRS | {"scripts"}
_DEV_FILES = frozenset({"noxfile.py", "tasks.py", "setup.py", "fabfile.py", "conftest.py"})
_DYNAMIC_IMPORT_WORDS = ("import", "library", "module", "find_spec", "backend")
_OPTIONAL = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass
class Uses:
    """Names a project uses outside import statements, each with the file that shows it."""

    modules: dict[str, str] = field(default_factory=dict)  # top-level module -> file
    words: dict[str, str] = field(default_factory=dict)  # command or distribution name -> file

    def evidence(self, distribution: str) -> str | None:
        """Where ``distribution`` is used without an import, or None when nowhere is known."""
        if distribution in USED_WITHOUT_IMPORT:
            return "used without import (a server, tool or data package)"
        for module in import_names(distribution):
            if module in self.modules:
                return f"named in {self.modules[module]}"
        if distribution in self.words:
            return f"named in {self.words[distribution]}"
        return None


def project_uses(src: SourceFiles) -> Uses:
    """Django settings strings, entry points and deployment commands of the whole tree."""
    uses = Uses()
    for file in src.files:
        name = file.rpartition("/")[2]
        if file.endswith(".py") and "INSTALLED_APPS" in "\n".join(src.lines(file)):
            _settings_strings(src, file, uses)
        elif name in ("pyproject.toml", "setup.cfg"):
            for module in _entry_point_modules(src, file):
                uses.modules.setdefault(module, file)
        elif _COMMAND_FILE.search(file):
            for word in re.findall(r"[A-Za-z][\w.-]*", "\n".join(src.lines(file))):
                uses.words.setdefault(normalise_name(word), file)
    return uses


def is_dev_code(path: str) -> bool:
    """Tests, docs, benchmarks, examples and project scripts: code a package's users never run."""
    *dirs, name = path.split("/")
    return (
        is_test_file(path)
        or name in _DEV_FILES
        or bool(dirs and dirs[0] in _DEV_DIRS)
        or name == "tests.py"
    )


def import_kinds(src: SourceFiles, file: str) -> dict[int, frozenset[str]]:
    """Line of each import in ``file`` -> what it sits in: "guarded" (a try that catches
    ImportError), "type-checking", "lazy" (a function body), "conditional" (an if)."""
    tree = src.parse(file) if file in src.files else None
    visitor = _ImportKinds()
    if tree is not None:
        visitor.visit(tree)
    return visitor.kinds


def is_optional(kinds: frozenset[str], library: bool) -> bool:
    """Whether an import in these surroundings is optional by design. A library imports its
    optional integrations lazily or behind a condition; an application only behind a guard."""
    return bool({"guarded", "type-checking"} & kinds) or (library and bool(kinds))


def local_modules(src: SourceFiles) -> set[str]:
    """Every module name a file or package of the tree provides, wherever it sits (docs/_ext
    and scripts put their folder on sys.path)."""
    names = {f.rpartition("/")[2].removesuffix(".py") for f in src.python}
    return names | {p.rpartition("/")[2] for p in src.packages if p}


def quoted_anywhere(src: SourceFiles, module: str) -> str | None:
    """The first file of shipped code that names ``module`` in quotes on a line about importing
    (``importlib.import_module("x")``, Django's ``library = "argon2"``), or None."""
    quoted = (f'"{module}"', f"'{module}'")
    for file in (f for f in src.python if not is_dev_code(f)):
        for line in src.lines(file):
            if any(q in line for q in quoted) and any(w in line for w in _DYNAMIC_IMPORT_WORDS):
                return file
    return None


class _ImportKinds(ast.NodeVisitor):
    def __init__(self) -> None:
        self.stack: list[str] = []
        self.kinds: dict[int, frozenset[str]] = {}

    def _within(self, kind: str, nodes: Sequence[ast.AST]) -> None:
        self.stack.append(kind)
        for node in nodes:
            self.visit(node)
        self.stack.pop()

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        self.kinds[node.lineno] = frozenset(self.stack)

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._within("lazy", node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        kind = "type-checking" if "TYPE_CHECKING" in ast.unparse(node.test) else "conditional"
        self._within(kind, [*node.body, *node.orelse])

    def visit_Try(self, node: ast.Try) -> None:
        if not any(_catches_import_error(h) for h in node.handlers):
            self.generic_visit(node)
            return
        self._within("guarded", [*node.body, *node.handlers])
        for statement in [*node.orelse, *node.finalbody]:
            self.visit(statement)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(k is None or (isinstance(k, ast.Name) and k.id in _OPTIONAL) for k in kinds)


def _settings_strings(src: SourceFiles, file: str, uses: Uses) -> None:
    """Every dotted string of a settings module (apps, middleware, backends, storages) and the
    database drivers its engine names imply."""
    tree = src.parse(file)
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _DOTTED.match(node.value):
                uses.modules.setdefault(node.value.split(".")[0], file)
            for word, drivers in _DRIVERS.items():
                if word in node.value.lower():
                    for driver in drivers:
                        uses.words.setdefault(driver, file)


def _entry_point_modules(src: SourceFiles, file: str) -> set[str]:
    """Top-level modules named by [project.scripts] / entry-points or setup.cfg entry_points."""
    text = "\n".join(src.lines(file))
    try:
        if file.endswith(".toml"):
            project = tomllib.loads(text).get("project", {})
            tables = [project.get("scripts", {}), project.get("gui-scripts", {})]
            tables += list(project.get("entry-points", {}).values())
            targets = [v for t in tables if isinstance(t, dict) for v in t.values()]
        else:
            cfg = configparser.ConfigParser(interpolation=None)
            cfg.read_string(text)
            section = "options.entry_points"
            lines = [v for _, v in cfg.items(section)] if cfg.has_section(section) else []
            targets = [t.partition("=")[2] for v in lines for t in v.splitlines() if "=" in t]
    except (ValueError, configparser.Error):
        return set()
    return {t.strip().split(":")[0].split(".")[0] for t in targets if isinstance(t, str)}
