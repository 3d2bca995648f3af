"""Dangerous sinks per function, found by an AST scan and cached per file content.

A sink is a call to eval/exec, a shell, SQL ``execute``, pickle/yaml deserialisation or ``open``
of a path built from parts; each comes with the parameter that reaches it, if any. Used by the
Security Analysis perspective, which writes an abuse-case test for each sink.
"""

from __future__ import annotations

import ast
from typing import Any

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.perspectives._expressions import parse_file
from autocoder.workers.test_planning.perspectives._syntax import function_nodes

TOOL, VERSION = "autocoder-tp-security_analysis", f"{__version__}-1"
SHELL = {"call", "run", "Popen", "check_call", "check_output"}
INTERESTING = {"eval", "exec", "system", "popen", "getoutput", "getstatusoutput", "call", "run",
               "Popen", "check_call", "check_output", "execute", "executemany", "executescript",
               "loads", "unsafe_load", "load", "open"}  # fmt: skip
ALWAYS_SHELL = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"}


def _reaching(node: ast.AST, params: list[str]) -> str | None:
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return next((p for p in params if p in names), None)


def _built(node: ast.AST) -> bool:
    """A string made from parts: an f-string, ``+`` or ``%``, or ``.format(...)``."""
    return isinstance(node, ast.JoinedStr | ast.BinOp) or (
        isinstance(node, ast.Call) and ast.unparse(node.func).endswith(".format"))  # fmt: skip


def dotted(node: ast.expr) -> str:
    """``a.b.c`` of a name or attribute chain (``.c`` when it starts at a call), no unparse."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    parts.append(node.id if isinstance(node, ast.Name) else "")
    return ".".join(reversed(parts))


def _category(call: ast.Call) -> str | None:
    name = dotted(call.func)
    last, first = name.rsplit(".", 1)[-1], call.args[0] if call.args else None
    if last not in INTERESTING:
        return None
    keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
    if name in ("eval", "exec", "builtins.eval", "builtins.exec"):
        return "code"
    if name in ALWAYS_SHELL or (last in SHELL and keywords.get("shell") == "True"):
        return "shell"
    if last in ("execute", "executemany", "executescript") and first is not None and _built(first):
        return "sql"
    if name in ("pickle.loads", "cPickle.loads", "dill.loads", "yaml.unsafe_load") or (
        name == "yaml.load" and "Safe" not in keywords.get("Loader", "")):  # fmt: skip
        return "deserialise"
    return "path" if name == "open" and first is not None and _built(first) else None


def _base(node: ast.expr) -> str:
    """The literal directory an input-built path starts with (``/srv/statements/``)."""
    first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else node
    first = first.left if isinstance(first, ast.BinOp) else first
    text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    return text.rpartition("/")[0] + "/" if "/" in text else ""


def _function_sinks(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[dict[str, Any]]:
    params = [a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]]
    out = []
    for call in (n for n in ast.walk(func) if isinstance(n, ast.Call)):
        category = _category(call)
        if category is None or not call.args:
            continue
        base = _base(call.args[0]) if category == "path" else ""
        if category != "path" or base:
            out.append({"line": call.lineno, "category": category, "call": ast.unparse(call)[:80],
                        "param": _reaching(call.args[0], params), "base": base,
                        "connect": "sqlite3.connect(" in ast.unparse(func)})  # fmt: skip
    return out


def _scan_file(ctx: RunContext, file: str) -> list[dict[str, Any]]:
    tree = parse_file(ctx, file)
    if tree is None or is_test_file(file):
        return []
    return [{"qualname": q, **s} for q, func in function_nodes(tree) for s in _function_sinks(func)]


def sinks_per_file(ctx: RunContext) -> dict[str, list[dict[str, Any]]]:
    """Every Python source file -> its functions' sinks, each with the function's qualname."""
    return cached_per_file(ctx.cache, TOOL, VERSION, ctx.sources, ctx.sources.python,
                           lambda miss: {f: _scan_file(ctx, f) for f in miss})  # fmt: skip
