"""Building test specifications: stable ids, priority from risk, and test code that parses.

Every perspective of the test planning worker builds its specs with :func:`make_spec`; names
from the target reach the code through :mod:`.codegen` (:func:`import_line`,
:func:`module_alias`), and code that does not compile is dropped by :func:`.results.finish`.
"""

from __future__ import annotations

import ast
import hashlib
import keyword
import re
from collections.abc import Collection

from autocoder.schema import SpecKind, TestSpec
from autocoder.workers.test_planning.codegen import dotted, identifier, literal
from autocoder.workers.test_planning.inventory import Inventory, Subject


def spec_id(perspective_id: str, subject: str, kind: str, key: str) -> str:
    """Stable across runs: what is tested and why, never where the line moved to."""
    return hashlib.sha256(f"{perspective_id}\0{subject}\0{kind}\0{key}".encode()).hexdigest()[:16]


def risk_score(subject: Subject, inventory: Inventory) -> int:
    """Higher is riskier: complexity, fan-in of its module, public exposure, missing tests."""
    score = min(subject.complexity, 20) // 4
    score += min(inventory.fan_in(subject.module), 10) // 3
    score += 2 if subject.public else 0
    score += 1 if subject.is_async else 0
    score += 3 if not inventory.tested(subject) else 0
    return score


def priority(subject: Subject, inventory: Inventory, boost: int = 0) -> int:
    """1 (write first) to 5, from :func:`risk_score` plus a perspective-specific ``boost``."""
    score = risk_score(subject, inventory) + boost
    return 1 if score >= 9 else 2 if score >= 7 else 3 if score >= 5 else 4 if score >= 3 else 5


def slug(text: str, limit: int = 60) -> str:
    """A lower_snake identifier fragment from any text."""
    cleaned = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()[:limit].strip("_")
    return cleaned or "case"


def test_name(subject: Subject, what: str) -> str:
    name = f"test_{slug(subject.qualname.replace('.', '_'))}_{slug(what)}"
    return name if not keyword.iskeyword(name) else f"{name}_"


def import_line(subject: Subject) -> str:
    """How a test imports the subject (a method through its class)."""
    return f"from {dotted(subject.module)} import {identifier(subject.owner)}"


def module_alias(subject: Subject, alias: str) -> str:
    """``import pkg.mod as <alias>``: the subject's module, for patching names on it."""
    return f"import {dotted(subject.module)} as {identifier(alias)}"


def source_lines(code: str) -> list[str]:
    """The lines of ``code`` as Python counts them (``str.splitlines`` also splits at form feeds
    and ``\\u2028``, which a string literal may hold)."""
    return code.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n").split("\n")


def call_target(subject: Subject) -> str:
    """The expression a test calls: ``func`` or ``Class.method`` (the test makes instances)."""
    return subject.qualname


def render(imports: list[str], body: str) -> str:
    """A whole test module: the imports in the order given (duplicates dropped), then the tests."""
    head = "\n".join(dict.fromkeys(line for line in imports if line))
    return f"{head}\n\n\n{body.strip()}\n"


BLOCKED = "environment: cannot import"  # how a generated test says the environment stopped it


def _target_imports(tree: ast.Module, modules: Collection[str]) -> tuple[int, list[str]]:
    """The line of the first top-level import of the target's code, and the modules imported."""
    found: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n: node.lineno for n in names if n in modules and n not in found}
    return min(found.values(), default=0), list(found)


def with_import_guard(test_code: str, modules: Collection[str]) -> str:
    """``test_code`` with a module-level skip before its first import of the target's code.

    Where this environment cannot import a module of the target (a missing driver or native
    library, unset framework settings), the test is skipped with a reason starting with
    :data:`BLOCKED`: blocked by the environment, not a broken test. A name missing from a module
    that does import still fails collection, as a bug in the generated test should."""
    tree = ast.parse(test_code)
    line, imported = _target_imports(tree, modules)
    if not imported:
        return test_code
    have = {  # imported before the guard, so the guard can use them
        a.name for n in tree.body if isinstance(n, ast.Import) and n.lineno < line
        for a in n.names if a.asname is None
    }  # fmt: skip
    needed = [f"import {m}" for m in ("importlib", "pytest") if m not in have]
    guard = [
        *([*needed, ""] if needed else []),
        f"for _module in ({', '.join(map(literal, imported))},):  # skip where this environment",
        "    try:  # cannot import the code under test (a driver, a native library, settings)",
        "        importlib.import_module(_module)",
        "    except Exception as error:",
        f'        reason = f"{BLOCKED} {{_module}}: {{error!r}}"',
        "        pytest.skip(reason[:500], allow_module_level=True)",
        "",
    ]
    lines = source_lines(test_code)
    before = [*lines[: line - 1], ""] if line > 1 else []
    return "\n".join([*before, *guard, *lines[line - 1 :]]) + "\n"


def with_subjects_uncollected(test_code: str, modules: Collection[str]) -> str:
    """``test_code`` telling pytest not to collect what it imports from the target under a name
    pytest would take for a test (a ``test_name`` function, a ``TestSpec`` class)."""
    tree = ast.parse(test_code)
    names = [
        a.asname or a.name
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and n.module in modules
        for a in n.names
        if (a.asname or a.name).startswith(("test", "Test"))
    ]
    if not names:
        return test_code
    last = max(n.end_lineno or n.lineno for n in tree.body if isinstance(n, ast.ImportFrom))
    marks = [f"{name}.__test__ = False  # code under test, not a test" for name in names]
    lines = source_lines(test_code)
    return "\n".join([*lines[:last], *marks, *lines[last:]]) + "\n"


def make_spec(
    *,
    perspective: str,
    perspective_id: str,
    subject: Subject,
    kind: SpecKind,
    key: str,
    rationale: str,
    inputs: str,
    expected: str,
    test_code: str,
    inventory: Inventory,
    mocks: str = "",
    line: int | None = None,
    boost: int = 0,
) -> TestSpec:
    """A validated spec, its test guarded by :func:`with_import_guard` and
    :func:`with_subjects_uncollected`. Code that does not parse is kept as it is:
    :func:`.results.finish` drops it and says why."""
    try:
        test_code = with_import_guard(test_code, inventory.modules)
        test_code = with_subjects_uncollected(test_code, inventory.modules)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass  # kept unguarded: finish() drops it with the reason
    return TestSpec(
        id=spec_id(perspective_id, subject.id, kind, key),
        perspective=perspective,
        subject=subject.id,
        file=subject.file,
        line=line if line is not None else subject.line,
        kind=kind,
        rationale=rationale,
        inputs=inputs,
        expected=expected,
        mocks=mocks,
        priority=priority(subject, inventory, boost),
        test_code=test_code,
    )
