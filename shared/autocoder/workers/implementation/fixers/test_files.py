"""A test planning spec's pytest module written into the target's test tree, as a new file.

The file goes where the target keeps its tests: the first folder of its pytest ``testpaths``,
else an existing ``tests/`` or ``test/`` folder, else a new ``tests/``. Its name comes from the
subject's module and the item's id (``tests/test_autocoder_<module>_<8 hex>.py``), so the same
spec gets the same name at every commit; an existing file is never overwritten (a numbered name
is taken instead) and no ``conftest.py`` is touched. Adding a file changes no behaviour of the
target, so the fix is safe; whether the test passes is verification's business.

:func:`test_in_tree` tells whether a spec's tests are in the target already, compared by their
syntax trees (comments, blank lines and formatting ignored), so a spec already written, by this
worker or by hand, is not written twice.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from autocoder.engine import toolkit
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.engine.testrun import configured_testpaths
from autocoder.errors import FixerError
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.workitem import WorkItem

TIDY_RULES = "F401,F811,I001"
TIDY_TIMEOUT_S = 60.0
TEST_DIRS = ("tests", "test")  # looked for at the root when no testpaths are configured
MAX_NAME_TRIES = 100  # numbered names tried before giving up
_NOT_IN_NAME = re.compile(r"[^0-9A-Za-z_]+")


def fixes(item: WorkItem, root: Path, options: RunOptions) -> list[Fix]:
    """The spec's test as a new file in the target's test folder ([] for an item that is not a
    spec or has no code); FixerError when the code does not parse or has no test function."""
    if item.kind != "spec" or not item.test_code.strip():
        return []
    if not normalised_tests(_parsed(item)):
        raise FixerError(f"spec {_spec_name(item)}: its test_code defines no test function")
    folder = tests_folder(root)
    file = free_name(root, folder, item)
    specs = ", ".join(item.spec_ids) or item.id
    title = f"add {file}: the test for {item.subject or item.file} (spec {specs})"
    rationale = (
        f"The test planning spec {specs} for {item.subject or item.file} ({item.rule or 'test'}, "
        f"priority {item.priority}) goes in {folder or '.'}/ "
        f"({_why_there(root, folder)}) as the new file {file}. Only a file is added: no existing "
        "test, conftest.py or code changes."
    )
    return [Fix("tests:write", title, True, rationale, lambda tree: write_test(item, tree, folder))]


def write_test(item: WorkItem, tree: Path, folder: str) -> list[str]:
    """Write the spec's code in ``tree`` under ``folder``, in a name no file there has yet."""
    file = free_name(tree, folder, item)
    path = tree / file
    path.parent.mkdir(parents=True, exist_ok=True)
    code = without_environment_skip(item.test_code)
    with path.open("x", encoding="utf-8", newline="\n") as out:  # "x": never overwrite
        out.write(code if code.endswith("\n") else code + "\n")
    tidy_imports(tree, file)
    return [file]


def without_environment_skip(code: str) -> str:
    """The spec's code without the module-level loop that skips the whole file when this
    environment cannot import the subject: the test planning worker's own runs report that as
    ``blocked``, but in the team's tree a test that cannot import its subject must fail, not
    skip. Only those lines go; the rest stays byte for byte."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    drop = {n for node in tree.body if isinstance(node, ast.For) and _skips_module(node)
            for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)}  # fmt: skip
    lines = code.splitlines(keepends=True)
    return "".join(line for n, line in enumerate(lines, 1) if n not in drop)


def _skips_module(node: ast.For) -> bool:
    return any(
        isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        and call.func.attr == "skip"
        and any(k.arg == "allow_module_level" for k in call.keywords)
        for call in ast.walk(node)
    )  # fmt: skip


def tidy_imports(tree: Path, file: str) -> None:
    """ruff's own fixes for the imports of the new file only: unused (F401) and repeated (F811)
    ones removed, the block sorted (I001), as a reviewer would ask of a new test file."""
    toolkit.run_tool(
        ["ruff", "check", "--isolated", "--no-cache", "--fix", "--exit-zero", "--quiet",
         "--select", TIDY_RULES, "--", file],
        cwd=tree, timeout_s=TIDY_TIMEOUT_S, ok_codes=(0,),
    )  # fmt: skip
    text = (tree / file).read_text(encoding="utf-8")
    if text.startswith("\n"):  # where removed imports were
        (tree / file).write_text(text.lstrip("\n"), encoding="utf-8", newline="\n")


def tests_folder(root: Path) -> str:
    """The repo-relative folder new tests go in ("" for the root itself)."""
    for path in configured_testpaths(root):
        if path.is_dir() and path.resolve() != root.resolve():
            return path.relative_to(root).as_posix()
    return next((d for d in TEST_DIRS if (root / d).is_dir()), TEST_DIRS[0])


def free_name(root: Path, folder: str, item: WorkItem) -> str:
    """``<folder>/test_autocoder_<module>_<8 hex of the id>.py``, numbered when taken."""
    module = item.subject.split(":", 1)[0].rsplit(".", 1)[-1] or Path(item.file).stem or "spec"
    stem = f"test_autocoder_{_NOT_IN_NAME.sub('_', module).strip('_') or 'spec'}_{item.id[-8:]}"
    prefix = f"{folder}/" if folder else ""
    for n in range(1, MAX_NAME_TRIES + 1):
        file = f"{prefix}{stem}{'' if n == 1 else f'_{n}'}.py"
        if not (root / file).exists():
            return file
    raise FixerError(f"{prefix}{stem}.py and {MAX_NAME_TRIES - 1} numbered names are all taken")


def test_in_tree(sources: SourceFiles, test_code: str) -> bool:
    """Whether every test function of ``test_code`` is in one of the target's test files
    already, with the same syntax tree (comments and formatting ignored). False when the code
    does not parse or defines no test."""
    try:
        wanted = normalised_tests(ast.parse(test_code))
    except (SyntaxError, ValueError):
        return False
    return bool(wanted) and wanted <= tree_tests(sources)


test_in_tree.__test__ = False  # type: ignore[attr-defined]  # pytest: imported, not a test


def tree_tests(sources: SourceFiles) -> frozenset[str]:
    """The normalised test functions of every test file of the target."""
    found: set[str] = set()
    for file in sources.python:
        if is_test_file(file) and (tree := sources.parse(file)) is not None:
            found |= normalised_tests(tree)
    return frozenset(found)


def normalised_tests(tree: ast.Module) -> frozenset[str]:
    """``ast.dump`` (no positions) of each ``test*`` function at module level or in a
    ``Test*`` class: what pytest collects, compared by structure."""
    nodes: list[ast.stmt] = list(tree.body)
    nodes += [n for c in tree.body if isinstance(c, ast.ClassDef) and c.name.startswith("Test")
              for n in c.body]  # fmt: skip
    return frozenset(
        ast.dump(n, include_attributes=False)
        for n in nodes
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
    )


def _parsed(item: WorkItem) -> ast.Module:
    try:
        return ast.parse(item.test_code)
    except (SyntaxError, ValueError) as e:
        raise FixerError(f"spec {_spec_name(item)}: its test_code does not parse: {e}") from None


def _spec_name(item: WorkItem) -> str:
    return f"{', '.join(item.spec_ids) or item.id} ({item.subject or item.file})"


def _why_there(root: Path, folder: str) -> str:
    if any(p.is_dir() and p.resolve() != root.resolve() for p in configured_testpaths(root)):
        return "the first folder of its pytest testpaths"
    if (root / folder).is_dir():
        return "its existing test folder"
    return "no test folder yet: a new one"
