"""Whether a definition is public API: its name path, ``__all__``, re-exports and the docs.

A part of the path is private when it starts with an underscore and is not a dunder
(``__call__`` is protocol, not private). Documentation counts when a file under ``docs/``
(``doc/``) or a README names one of the definition's dotted spellings (``click.echo``), or
documents it with a Sphinx ``auto...::`` directive under the ``currentmodule::`` or ``module::``
it lives in. A plain word match (``echo`` in prose) is not taken as documentation.
"""

from __future__ import annotations

import ast
import re

from autocoder.engine.cache import ResultCache
from autocoder.engine.modules import DOCS_DIRS, top_level_packages
from autocoder.engine.sources import SourceFiles
from autocoder.workers.implementation._context_index import ProjectIndex, project_index
from autocoder.workers.implementation._context_model import MAX_LISTED, PublicApi
from autocoder.workers.implementation._context_refs import spellings

DOC_SUFFIXES = (".rst", ".md", ".txt")
_SPHINX_MODULE = re.compile(r"^\s*\.\.\s+(?:py:)?(?:current)?module::\s*(\S+)", re.M)
_SPHINX_AUTO = re.compile(r"^\s*\.\.\s+(?:py:)?auto\w+::\s*(\S+)", re.M)


def public_api(
    sources: SourceFiles, module: str, qualname: str, cache: ResultCache | None = None
) -> PublicApi:
    """Whether ``module:qualname`` is public API, and every reason found for and against."""
    index = project_index(sources, cache)
    private = [p for p in [*module.split("."), *qualname.split(".")] if _private(p)]
    local = "<locals>" in qualname.split(".")
    in_all = _in_all(index, module, qualname.split(".", maxsplit=1)[0])
    names = spellings(index, module, qualname)
    own = f"{module}.{qualname}"
    tops = set(project_packages(sources))
    exported = sorted(
        n for n, by in names.items()
        if n != own and by.split(".", maxsplit=1)[0] in tops and _public_export(index, n, by)
    )  # fmt: skip
    documented = _documented(sources, set(names))
    own_public = not private and not local and in_all is not False
    reasons = _reasons(private, local, in_all, exported, documented)
    return PublicApi(
        module, qualname, own_public or bool(exported), reasons, private, in_all,
        exported[:MAX_LISTED], documented[:MAX_LISTED], len(documented),
    )  # fmt: skip


def _reasons(
    private: list[str], local: bool, in_all: bool | None, exported: list[str], docs: list[str]
) -> list[str]:
    reasons = [f"private part of its name: {', '.join(private)}"] if private else []
    if local:
        reasons.append("defined inside a function: not reachable by import")
    if in_all is not None:
        reasons.append(f"{'listed' if in_all else 'not listed'} in its module's __all__")
    if exported:
        reasons.append(f"re-exported as {_some(exported)}")
    if docs:
        reasons.append(f"documented in {_some(docs)}")
    if not private and not local and in_all is None:
        reasons.append("no private part of its name, and its module has no __all__")
    return reasons


def project_packages(sources: SourceFiles) -> dict[str, str]:
    """The target's own top-level packages (not its examples, docs or tests), as
    :func:`.modules.top_level_packages` finds them."""
    pyproject = "\n".join(sources.lines("pyproject.toml")) if "pyproject.toml" in sources else None
    return top_level_packages(sources.python, pyproject)


def _some(names: list[str]) -> str:
    """The first three of ``names``, and how many more there are."""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _in_all(index: ProjectIndex, module: str, name: str) -> bool | None:
    """Whether the module's literal ``__all__`` lists ``name``; None without a readable one."""
    listed = all_names(index, module)
    return None if listed is None else name in listed


def all_names(index: ProjectIndex, module: str) -> set[str] | None:
    """The names a module's ``__all__`` lists when every assignment to it is a literal list or
    tuple of strings (``=``, ``+=``, annotated); None otherwise or without one."""
    facts = index.facts(module)
    tree = index.tree(facts.file) if facts is not None else None
    if tree is None:
        return None
    names: set[str] | None = None
    for stmt in tree.body:
        target, value = _all_assignment(stmt)
        if target is None:
            continue
        literal = _strings(value)
        if literal is None:
            return None
        names = literal if isinstance(stmt, ast.Assign | ast.AnnAssign) else (names or set())
        names |= literal
    return names


def _all_assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets
    ):
        return "__all__", stmt.value
    if (
        isinstance(stmt, ast.AnnAssign | ast.AugAssign)
        and isinstance(stmt.target, ast.Name)
        and stmt.target.id == "__all__"
    ):
        return "__all__", stmt.value
    return None, None


def _strings(value: ast.expr | None) -> set[str] | None:
    if not isinstance(value, ast.List | ast.Tuple):
        return None
    found = {e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
             and e.value}  # fmt: skip
    return found if len(found) == len(value.elts) else None


def _public_export(index: ProjectIndex, name: str, by: str) -> bool:
    """Whether the spelling ``name`` (bound by module ``by``) is a public re-export: ``by`` is a
    package (its ``__init__``) of the project's own, no private part is in its path or the bound
    name, and its ``__all__`` lists the name when it has one. ``from .utils import echo`` in
    ``core.py`` is a use, not an export."""
    local = name[len(by) + 1 :].split(".", maxsplit=1)[0]
    facts = index.facts(by)
    if facts is None or not facts.is_package:
        return False
    if any(_private(p) for p in [*by.split("."), local]):
        return False
    listed = all_names(index, by)
    return listed is None or local in listed


def _documented(sources: SourceFiles, names: set[str]) -> list[str]:
    """The documentation files that name one of ``names`` (see the module docstring)."""
    found = []
    spelled = re.compile("|".join(rf"(?<![\w.]){re.escape(n)}(?![\w])" for n in sorted(names)))
    last_parts = {n.rpartition(".")[2] for n in names}
    for file in sources.files:
        if not _doc_file(file):
            continue
        text = "\n".join(sources.lines(file))
        if not any(part in text for part in last_parts):  # a quick no before the regexes
            continue
        if spelled.search(text) or _sphinx_documents(text, names):
            found.append(file)
    return found


def _doc_file(file: str) -> bool:
    *dirs, name = file.split("/")
    in_docs = bool(dirs) and dirs[0] in DOCS_DIRS
    return name.endswith(DOC_SUFFIXES) and (in_docs or (not dirs and name.startswith("README")))


def _sphinx_documents(text: str, names: set[str]) -> bool:
    """``.. autofunction:: echo`` under ``.. currentmodule:: click`` for ``click.echo``."""
    current = ""
    for line in text.splitlines():
        if module := _SPHINX_MODULE.match(line):
            current = module.group(1)
        elif (auto := _SPHINX_AUTO.match(line)) and f"{current}.{auto.group(1)}" in names:
            return True
    return False
