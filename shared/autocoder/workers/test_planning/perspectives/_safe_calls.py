"""Which subjects are safe to call and safe arguments for them.

Each function's calls, raises and endless loops (:func:`call_facts`, cached per file content under
Coverage Strategy's cache key), the subjects whose call may touch the outside
(:func:`unsafe_subjects`), and call arguments from type hints and literal defaults
(:func:`call_args`). Shared by Coverage Strategy, Performance Impact and Test Pyramid.
"""

from __future__ import annotations

import ast
from typing import Any

from autocoder import __version__
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.inventory import Inventory, Param, Subject

TOOL, VERSION = "autocoder-tp-coverage_strategy", f"{__version__}-1"  # call_facts' cache key


UNSAFE_MODULES = {"subprocess", "socket", "requests", "httpx", "urllib", "aiohttp", "pickle", "os",
                  "marshal", "shelve", "shutil", "webbrowser", "multiprocessing", "signal", "sys",
                  "ctypes", "sqlite3", "asyncio", "threading", "random", "secrets"}  # fmt: skip


UNSAFE_CALLS = {"open", "eval", "exec", "input", "exit", "quit", "sleep", "parse_args", "touch",
                "write_text", "write_bytes", "read_text", "read_bytes", "unlink", "mkdir", "rmdir",
                "connect", "urlopen", "load", "loads", "now", "today", "time", "uuid4",
                "__import__", "getpass"}  # fmt: skip


SAFE_OS = {"os.path.join", "os.path.basename", "os.path.dirname", "os.path.splitext", "os.fspath",
           "os.environ.get", "os.getenv", "os.path.normpath", "sys.getsizeof"}  # fmt: skip


PLAIN = {"int": "1", "float": "1.0", "bool": "False", "bytes": 'b"x"', "None": "None",
         "list": "[]", "List": "[]", "Sequence": "[]", "Iterable": "[]", "dict": "{}",
         "Dict": "{}", "Mapping": "{}", "tuple": "()", "Tuple": "()", "set": "set()"}  # fmt: skip


OMIT = ""  # the parameter keeps its default


def literal_for(param: Param) -> str | None:
    """A safe value's source for ``param``: OMIT for a literal default, else one from its
    annotation (``int`` -> ``1``, ``str`` -> its name, ``X | None`` -> one of X), else None."""
    if param.kind in ("var_positional", "var_keyword"):
        return OMIT
    if param.default is not None:
        try:
            ast.literal_eval(param.default)
        except (ValueError, SyntaxError):
            return None
        return OMIT
    options = [a.strip() for a in (param.annotation or "").strip("'\"").split("|")]
    for option in sorted(options, key=lambda o: o == "None"):
        base = option.removeprefix("Optional[").split("[")[0].rsplit(".", 1)[-1]
        if base in PLAIN or base == "str":
            return repr(param.name) if base == "str" else PLAIN[base]
    return None


def call_args(subject: Subject, skip_self: bool, fixed: dict[str, str] | None = None) -> str | None:
    """``a, b, key=c`` for a call of ``subject``: ``fixed`` values where given, else safe ones
    from type hints and literal defaults; None when one cannot be derived."""
    params = subject.params[1 if skip_self else 0 :]
    values = [(p, (fixed or {}).get(p.name) or literal_for(p)) for p in params]
    if any(v is None for _, v in values):
        return None
    positional = [(p, v) for p, v in values if p.kind == "positional"]
    while positional and positional[-1][1] == OMIT:
        positional.pop()
    keywords = [f"{p.name}={v}" for p, v in values if p.kind == "keyword" and v]
    return ", ".join([*(v or p.default or "" for p, v in positional), *keywords])


def dotted(node: ast.AST) -> str:
    """``a.b.c`` of a name or attribute chain; ``?`` stands for a root that is not a name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts, node = [node.attr, *parts], node.value
    return ".".join([node.id if isinstance(node, ast.Name) else "?", *parts])


def _facts(node: ast.AST) -> dict[str, Any]:
    nodes = list(ast.walk(node))
    raised = [n.exc for n in nodes if isinstance(n, ast.Raise) and n.exc is not None]
    indexed = {dotted(n.value) for n in nodes if isinstance(n, ast.Subscript)}
    return {
        "calls": sorted({dotted(n.func) for n in nodes if isinstance(n, ast.Call)}
                        | {f"{name}[]" for name in indexed if name == "os.environ"}),
        "indexed": sorted(indexed),
        "raises": sorted({dotted(e.func if isinstance(e, ast.Call) else e) for e in raised}),
        "forever": any(isinstance(n, ast.While) and isinstance(n.test, ast.Constant)
                       and n.test.value for n in nodes),
    }  # fmt: skip


def parse_file(ctx: RunContext, file: str) -> ast.Module | None:
    """The file's syntax tree, or None when it does not parse."""
    return ctx.sources.parse(file)  # never raises, whatever the file holds


def scan_file(tree: ast.Module) -> dict[str, Any]:
    """Calls, raises, endless loops and bases of each top-level function, class and method."""
    out: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out[node.name] = _facts(node)
        elif isinstance(node, ast.ClassDef):
            bases = [ast.unparse(b) for b in node.bases]
            out[node.name] = {"calls": [], "raises": [], "forever": False, "bases": bases}
            out.update({f"{node.name}.{item.name}": _facts(item) for item in node.body
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)})  # fmt: skip
    return out


def call_facts(ctx: RunContext, inventory: Inventory) -> dict[str, dict[str, Any]]:
    """Subject id -> its calls, raises, subscripted names and endless loops (cached per file)."""
    per_file = cached_per_file(
        ctx.cache, TOOL, VERSION, ctx.sources, list(inventory.modules.values()),
        lambda miss: {f: scan_file(t) if (t := parse_file(ctx, f)) else {} for f in miss},
        default={},
    )  # fmt: skip
    return {f"{m}:{q}": v for m, f in inventory.modules.items() for q, v in per_file[f].items()}


def unsafe_call(call: str) -> bool:
    parts = call.split(".")
    return call not in SAFE_OS and (
        parts[0] in UNSAFE_MODULES or parts[-1] in UNSAFE_CALLS or call == "yaml.load"
    )


def unsafe_subjects(inventory: Inventory, facts: dict[str, dict[str, Any]]) -> set[str]:
    """Ids of subjects whose call may touch the outside, directly or via the target's functions
    (a caller is matched by the last name of what it calls: conservative)."""
    unsafe = {s.id for s in inventory.subjects if (f := facts.get(s.id))
              and (f["forever"] or any(unsafe_call(c) for c in f["calls"]))}  # fmt: skip
    callers: dict[str, set[str]] = {}
    for s in inventory.subjects:
        for call in facts.get(s.id, {}).get("calls", []):
            callers.setdefault(call.split(".")[-1], set()).add(s.id)
    queue = list(unsafe)
    while queue:
        for caller in callers.pop(queue.pop().split(":", 1)[1].split(".")[-1], set()) - unsafe:
            unsafe.add(caller)
            queue.append(caller)
    return unsafe
