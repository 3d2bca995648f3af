"""Test Coverage Strategy: untested modules and functions ranked by risk, in the order to test.

A subject is untested when no test names it (:meth:`Inventory.tested`), a module when no test
imports it. Each untested public subject among the riskiest gets a starter test that calls it
with values from its type hints and defaults when that is safe (no I/O, processes, network, eval,
pickle or explicit ``raise``, directly or through the target's own functions), and otherwise pins
that it is callable with the inputs a hand-written test has to choose.
"""

from __future__ import annotations

import ast
from dataclasses import fields
from functools import cached_property
from typing import Any, ClassVar

from autocoder import __version__
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import cached_per_file, require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.inventory import (
    Inventory,
    Param,
    Subject,
    build_inventory,
    is_test_file,
    module_name,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import import_line, make_spec, render, risk_score
from autocoder.workers.test_planning.specs import test_name as name_of_test

TOOL, VERSION, CAP = "autocoder-tp-coverage_strategy", f"{__version__}-1", 50
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
RESULT_TYPES = {"int", "str", "bool", "bytes", "list", "dict", "tuple", "set", "frozenset"}
TRANSPARENT = {"staticmethod", "classmethod", "functools.cache", "cache", "functools.lru_cache"}
OMIT = ""  # the parameter keeps its default


class FastInventory(Inventory):
    """The inventory with every module's fan-in counted in one pass over the imports (the base
    class rescans every file on each call, which is quadratic on a large target)."""

    @cached_property
    def _fan_in(self) -> dict[str, int]:
        importers: dict[str, set[str]] = {}
        for file, imported in self.imports.items():
            own = module_name(file)
            for name in imported:
                parts = name.split(".")
                for n in range(1, len(parts) + 1):
                    if (prefix := ".".join(parts[:n])) != own:
                        importers.setdefault(prefix, set()).add(file)
        return {module: len(files) for module, files in importers.items()}

    def fan_in(self, module: str) -> int:
        return self._fan_in.get(module, 0)


def fast_inventory(ctx: RunContext) -> FastInventory:
    inventory = build_inventory(ctx)
    return FastInventory(**{f.name: getattr(inventory, f.name) for f in fields(inventory)})


def importable(module: str) -> bool:
    """A test can import it: every part of the dotted path is an identifier (no ``django-src``)."""
    return all(part.isidentifier() for part in module.split("."))


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
    try:
        return ast.parse(ctx.sources.path(file).read_bytes(), filename=file)
    except (SyntaxError, ValueError):
        return None


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


def type_import(name: str, subject: Subject, inventory: Inventory) -> str | None:
    """The import line that makes ``name`` (from an annotation of ``subject``) usable in a test."""
    imports = inventory.imports.get(subject.file, [])
    if "." in name:
        module = name.rsplit(".", 1)[0]
        return f"import {module}" if module in imports else None
    if f"{subject.module}:{name}" in inventory.by_id:
        return f"from {subject.module} import {name}"
    found = [i for i in imports if i.endswith(f".{name}")]
    return f"from {found[0].rsplit('.', 1)[0]} import {name}" if found else None


def result_check(subject: Subject, inventory: Inventory) -> tuple[list[str], str]:
    """Imports and an ``isinstance`` assertion from the return annotation ("" when unusable)."""
    types: list[str] = []
    imports: list[str] = []
    for option in (o.strip() for o in (subject.returns or "").strip("'\"").split("|")):
        base = option.split("[")[0]
        line = type_import(base, subject, inventory) if base not in RESULT_TYPES else None
        if base in ("", "Any", "object") or (
            base not in (*RESULT_TYPES, "None", "float") and not line
        ):
            return [], ""
        imports += [line] if line else []
        types += {"None": ["type(None)"], "float": ["int", "float"]}.get(base, [base])
    return imports, f"    assert isinstance(result, ({', '.join(dict.fromkeys(types))},))\n"


class Planner:
    """Decides, per subject, whether a starter test may call it, and writes that test."""

    def __init__(self, inventory: Inventory, facts: dict[str, dict[str, Any]]) -> None:
        self.inventory, self.facts = inventory, facts
        self.unsafe = unsafe_subjects(inventory, facts)

    def why_not_called(self, subject: Subject) -> str | None:
        """None when a starter test may call ``subject``, else the reason it may not."""
        reason = self._why_not_callable(subject)
        if reason is None and subject.kind != "function" and not self._unbound(subject):
            return self._why_not_constructed(subject)
        return reason

    def _why_not_callable(self, subject: Subject) -> str | None:
        facts = self.facts.get(subject.id, {"calls": [], "raises": []})
        direct = [c for c in facts["calls"] if unsafe_call(c)]
        indexed = [p.name for p in subject.params if p.name in facts.get("indexed", [])]
        reasons = [
            (facts.get("forever"), "loops forever (while True)"),
            (subject.id in self.unsafe,
             f"reaches {', '.join(direct) or 'the outside through the functions it calls'}"),
            (facts["raises"], f"raises {', '.join(facts['raises'])}: test both paths"),
            (indexed, f"indexes {', '.join(indexed)}: choose inputs that hold what it looks up"),
            (not set(subject.decorators) <= TRANSPARENT,
             f"decorated with {', '.join(subject.decorators)}"),
            (subject.kind != "class" and self._args(subject) is None,
             "needs inputs its type hints and literal defaults do not give"),
        ]  # fmt: skip
        return next((why for applies, why in reasons if applies), None)

    def _why_not_constructed(self, subject: Subject) -> str | None:
        init = self.inventory.by_id.get(f"{subject.module}:{subject.owner}.__init__")
        if init is not None:
            why = self._why_not_callable(init)
            return f"constructing {subject.owner}: {why}" if why else None
        owner = self.facts.get(f"{subject.module}:{subject.owner}", {"bases": ["?"]})
        plain = all(b == "object" or b.endswith(("Error", "Exception")) for b in owner["bases"])
        decorated = self.inventory.by_id[f"{subject.module}:{subject.owner}"].decorators
        return None if plain and not decorated else f"constructing {subject.owner}: unknown"

    @staticmethod
    def _unbound(subject: Subject) -> bool:
        return bool({"staticmethod", "classmethod"} & set(subject.decorators))

    def _args(self, subject: Subject) -> str | None:
        return call_args(
            subject, subject.kind == "method" and "staticmethod" not in subject.decorators
        )

    def _call(self, subject: Subject) -> str:
        init = self.inventory.by_id.get(f"{subject.module}:{subject.owner}.__init__")
        construct = f"{subject.owner}({self._args(init) if init else ''})"
        if subject.kind == "class":
            return construct
        if subject.kind == "function":
            return f"{subject.qualname}({self._args(subject)})"
        on = subject.owner if self._unbound(subject) else construct
        return f"{on}.{subject.qualname.split('.')[-1]}({self._args(subject)})"

    def call_test(self, subject: Subject) -> str:
        """A test that calls ``subject`` (only when :meth:`why_not_called` is None)."""
        imports, check = result_check(subject, self.inventory)
        if subject.kind == "class":
            imports, check = [], f"    assert isinstance(result, {subject.owner})\n"
        call = self._call(subject)
        if subject.is_async:
            imports, call = ["import asyncio", *imports], f"asyncio.run({call})"
        body = f"    result = {call}\n{check}" if check else (
            f"    {call}  # runs without raising on these inputs\n")  # fmt: skip
        head = f"def {name_of_test(subject, 'starter')}():\n"
        return render([*imports, import_line(subject)], head + body)


def pin_test(subject: Subject, why: str) -> str:
    """A test that pins what a hand-written test needs: the subject and the inputs to choose."""
    bound = "classmethod" in subject.decorators  # the class is bound: no ``cls`` in the signature
    params, target = [p.name for p in subject.params[1 if bound else 0 :]], subject.qualname
    head = f"def {name_of_test(subject, 'is_callable_with_its_inputs')}():\n"
    head += (
        f"    # not called here ({why[:120]}); choose inputs for: {', '.join(params) or 'none'}\n"
    )
    body = f"    assert inspect.isclass({target})\n" if subject.kind == "class" else (
        f"    assert callable({target})\n"
        f"    assert list(inspect.signature({target}).parameters) == {params!r}\n")  # fmt: skip
    return render(["import inspect", import_line(subject)], head + body)


def untested_modules(inventory: Inventory) -> list[str]:
    """Modules no test imports (itself, or a name from it that is not a submodule)."""
    imported = {i for f, found in inventory.imports.items() if is_test_file(f) for i in found}
    names = {i.rsplit(".", 1)[0] for i in imported if i not in inventory.modules}
    return sorted(set(inventory.modules) - imported - names)


def _spec(subject: Subject, rank: int, planner: Planner) -> TestSpec:
    inventory, why = planner.inventory, planner.why_not_called(subject)
    how = ("a starter that calls it with values from its type hints and defaults"
           if why is None else f"a starter that pins its inputs (not called: {why})")  # fmt: skip
    returns = f" and returns {subject.returns}" if subject.returns else ""
    return make_spec(
        perspective=TestCoverageStrategy.name, perspective_id=TestCoverageStrategy.id,
        subject=subject, kind="unit", key="starter", inventory=inventory,
        rationale=(f"Untested #{rank} by risk ({risk_score(subject, inventory)}: complexity "
                   f"{subject.complexity}, imported by {inventory.fan_in(subject.module)} files, "
                   f"no test names it); {how}."),
        inputs=", ".join(p.name + (f": {p.annotation}" if p.annotation else "")
                         + (f" = {p.default}" if p.default else "") for p in subject.params)
        or "none",
        expected=(f"{subject.qualname} runs on the derived inputs{returns}" if why is None else
                  f"{subject.qualname} exists with these parameters; replace with a call on "
                  "chosen inputs and an assertion of its expected result"),
        test_code=planner.call_test(subject) if why is None else pin_test(subject, why),
    )  # fmt: skip


class TestCoverageStrategy:
    __test__ = False
    id: ClassVar[str] = "coverage_strategy"
    name: ClassVar[str] = "Test Coverage Strategy"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = fast_inventory(ctx)
        planner = Planner(inventory, call_facts(ctx, inventory))
        public = [s for s in inventory.subjects if s.public and importable(s.module)]
        ranked = sorted((s for s in public if not inventory.tested(s)),
                        key=lambda s: (-risk_score(s, inventory), s.id))  # fmt: skip
        specs = [_spec(s, rank, planner) for rank, s in enumerate(ranked[:CAP], 1)]
        modules = untested_modules(inventory)
        called = sum(1 for s in ranked[:CAP] if planner.why_not_called(s) is None)
        metrics = {"public_subjects": len(public), "untested_subjects": len(ranked),
                   "modules": len(inventory.modules), "untested_modules": len(modules),
                   "starters_calling": called, "starters_pinning": len(specs) - called}  # fmt: skip
        details = {
            "write_order": [{"rank": n, "subject": s.id, "risk": risk_score(s, inventory),
                             "file": s.file, "line": s.line}
                            for n, s in enumerate(ranked[:100], 1)],
            "untested_modules": _module_order(modules, ranked, inventory),
        }  # fmt: skip
        return finish(ctx, specs, _summary(metrics, ranked, inventory), metrics, details)


def _module_order(
    modules: list[str], ranked: list[Subject], inventory: Inventory
) -> list[dict[str, Any]]:
    """Untested modules, riskiest first: by their riskiest untested subject, then their count."""
    risks: dict[str, list[int]] = {m: [] for m in modules}
    for s in ranked:
        risks.get(s.module, []).append(risk_score(s, inventory))
    order = sorted(modules, key=lambda m: (-max(risks[m], default=0), -len(risks[m]), m))
    return [{"module": m, "file": inventory.modules[m], "untested_subjects": len(risks[m]),
             "max_risk": max(risks[m], default=0)} for m in order]  # fmt: skip


def _summary(metrics: dict[str, Any], ranked: list[Subject], inventory: Inventory) -> str:
    if not ranked:
        return (f"Every one of the {metrics['public_subjects']} public subjects is named by a "
                f"test; {metrics['untested_modules']} modules are imported by none. No starter "
                "tests to write.")  # fmt: skip
    first = ", ".join(f"{s.id} (risk {risk_score(s, inventory)})" for s in ranked[:3])
    return (
        f"{metrics['untested_subjects']} of {metrics['public_subjects']} public subjects are named "
        f"by no test, and {metrics['untested_modules']} of {metrics['modules']} modules are "
        f"imported by none. Write tests in this order: {first}. Of the starter tests, "
        f"{metrics['starters_calling']} call their subject with values from type hints and "
        f"defaults, {metrics['starters_pinning']} pin the inputs a test must choose."
    )
