"""Backwards Compatibility: the public API now against the API when this perspective last ran.

griffe reads each module statically (cached per file content) into a compact snapshot, public
name -> signature (``"(qty, unit, coupon=None)"``, ``"class"``, ``"property"``, ``"attribute"``
for module-level names, ``"export"`` for names re-exported through ``__all__``), kept in the
perspective's state. Against the previous snapshot, a removed object or parameter, a parameter
made keyword- or positional-only, a removed or changed default, a new required parameter or a
changed positional order becomes a test that pins the OLD contract (``inspect.signature``: here
that IS the behaviour, so :func:`.results.finish` keeps it); it fails when the break is real.
"""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path
from typing import Any, ClassVar

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import cached_per_file, require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.codegen import dotted, is_dotted, literal
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import import_line, make_spec, render, test_name

TOOL = "autocoder-tp-backwards_compatibility"
P = "inspect.Parameter."
KINDS = {"positional": "POSITIONAL_OR_KEYWORD", "positional-only": "POSITIONAL_ONLY",
         "keyword": "KEYWORD_ONLY"}  # fmt: skip
ALLOWED = {"positional": ("positional",), "positional-only": ("positional-only", "positional"),
           "keyword": ("keyword", "positional")}  # fmt: skip
VARIADIC = {"*": "VAR_POSITIONAL", "**": "VAR_KEYWORD"}
NAMES = {"removed": "keeps_parameter_{}", "kind": "keeps_the_kind_of_{}",
         "order": "keeps_the_order", "default": "keeps_the_default_of_{}",
         "default-removed": "keeps_a_default_for_{}",
         "required-added": "needs_no_new_argument_{}"}  # fmt: skip
Param = tuple[str, str, str | None]  # name, kind (positional-only|positional|keyword|*|**), default
Break = tuple[str, str, str]  # key, what changed, assertion on ``parameters``


# -- snapshot (griffe, cached per file content) --------------------------------------------------
def _default(text: Any) -> str:
    try:
        return ast.unparse(ast.parse(str(text), mode="eval"))
    except SyntaxError:
        return str(text)


def _signature(function: Any, skip_first: bool) -> str:
    params, parts, star = list(function.parameters)[1 if skip_first else 0 :], [], False
    for i, p in enumerate(params):
        kind = p.kind.value if p.kind else "positional or keyword"
        if kind == "keyword-only" and not star:
            parts.append("*")
        star = star or kind in ("keyword-only", "variadic positional")
        prefix = {"variadic positional": "*", "variadic keyword": "**"}.get(kind, "")
        default = f"={_default(p.default)}" if p.default is not None and not prefix else ""
        parts.append(f"{prefix}{p.name}{default}")
        following = params[i + 1].kind.value if i + 1 < len(params) and params[i + 1].kind else ""
        if kind == "positional-only" and following != "positional-only":
            parts.append("/")
    return f"({', '.join(parts)})"


def _members(griffe_object: Any, prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, member in griffe_object.members.items():
        special = name.startswith("__") and name not in ("__init__", "__call__")
        if special or not (member.is_public or name in ("__init__", "__call__")):
            continue
        if member.is_alias:
            out[prefix + name] = "export" if not prefix else "attribute"
        elif member.is_function:
            out[prefix + name] = _signature(member, "classmethod" in member.labels)
        elif member.is_class:
            out[prefix + name] = "class"
            out.update(_members(member, f"{name}.") if not prefix else {})
        elif member.is_attribute and ("property" in member.labels or not prefix):
            out[prefix + name] = "property" if "property" in member.labels else "attribute"
    return out


def _snapshot(ctx: RunContext, files: list[str]) -> dict[str, Any]:
    import griffe

    out: dict[str, Any] = {}
    for file in files:
        try:
            code = ctx.sources.read_bytes(file).decode("utf-8")
            out[file] = _members(
                griffe.visit(ctx.sources.module(file) or "module", Path(file), code), ""
            )
        except Exception:  # griffe raises many kinds of errors on code it cannot read
            out[file] = {}
    return out


def snapshot(ctx: RunContext) -> tuple[dict[str, str], dict[str, str]]:
    """(public subject -> signature, module -> file) of the target's importable modules."""
    modules = {f: ctx.sources.module(f) for f in ctx.sources.python if not is_test_file(f)}
    files = [f for f, m in modules.items() if is_dotted(m) and not (m[0] == "_" or "._" in m)]
    version = f"{__version__}-2-griffe-{importlib.metadata.version('griffe')}"
    per_file = cached_per_file(ctx.cache, TOOL, version, ctx.sources, files,
                               lambda miss: _snapshot(ctx, miss), default={})  # fmt: skip
    api = {f"{modules[f]}:{q}": sig for f in files for q, sig in per_file[f].items()}
    return api, {modules[f]: f for f in files}


# -- comparing signatures ------------------------------------------------------------------------
def parameters(signature: str) -> list[Param]:
    """The parameters of a snapshot signature, [] when it is not one."""
    try:
        node = ast.parse(f"def f{signature}: pass").body[0]
    except SyntaxError:
        return []
    assert isinstance(node, ast.FunctionDef)
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults = [None] * (len(positional) - len(a.defaults)) + [ast.unparse(d) for d in a.defaults]
    kinds = ["positional-only"] * len(a.posonlyargs) + ["positional"] * len(a.args)
    out: list[Param] = list(zip([p.arg for p in positional], kinds, defaults, strict=True))
    out += [(a.vararg.arg, "*", None)] if a.vararg else []
    out += [(p.arg, "keyword", ast.unparse(d) if d else None)
            for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]  # fmt: skip
    return out + ([(a.kwarg.arg, "**", None)] if a.kwarg else [])


def _default_check(name: str, default: str) -> str:
    try:
        ast.literal_eval(default)
        expected = default
    except ValueError:
        dotted = all(part.isidentifier() for part in default.split("."))
        expected = f"target_module.{default}" if dotted else ""
    if not expected:
        return f"assert parameters[{name!r}].default is not {P}empty"
    return f"assert parameters[{name!r}].default {'is' if expected == 'None' else '=='} {expected}"


def _parameter_breaks(p: Param, after: dict[str, Param]) -> list[Break]:
    name, kind, default = p
    if kind in VARIADIC:
        if any(k == kind for _, k, _ in after.values()):
            return []
        check = f"assert any(p.kind is {P}{VARIADIC[kind]} for p in parameters.values())"
        return [(f"removed:{kind}", f"no longer takes {kind}{name}", check)]
    if name not in after:
        return [
            (f"removed:{name}", f"parameter {name} was removed", f"assert {name!r} in parameters")
        ]
    _, new_kind, new_default = after[name]
    out: list[Break] = []
    if new_kind not in ALLOWED[kind]:
        allowed = ", ".join(f"{P}{KINDS[k]}" for k in ALLOWED[kind])
        check = f"assert parameters[{name!r}].kind in ({allowed},)"
        out.append((f"kind:{name}", f"{name} became {new_kind}", check))
    if default is not None and new_default is None:
        check = f"assert parameters[{name!r}].default is not {P}empty"
        out.append((f"default-removed:{name}", f"{name} lost its default {default}", check))
    elif default is not None and new_default != default:
        what = f"default of {name} changed from {default} to {new_default}"
        out.append((f"default:{name}", what, _default_check(name, default)))
    return out


def breaks(old: str, new: str) -> list[Break]:
    """How a call that worked with signature ``old`` can fail with ``new``."""
    before, after = parameters(old), {p[0]: p for p in parameters(new)}
    out = [b for p in before for b in _parameter_breaks(p, after)]
    known = {p[0] for p in before}
    for n, _, _ in (p for p in after.values() if p[0] not in known and p[1] not in VARIADIC):
        check = f"assert {n!r} not in parameters or parameters[{n!r}].default is not {P}empty"
        out += (
            [(f"required-added:{n}", f"new required parameter {n}", check)]
            if not after[n][2]
            else []
        )
    positional = [n for n, k, _ in before if k in ALLOWED["positional-only"]]
    now = [n for n, k, _ in after.values() if k in ALLOWED["positional-only"] and n in positional]
    kept = [n for n in positional if n in now]
    if now != kept:
        check = f"assert [n for n in parameters if n in {sorted(kept)!r}] == {kept!r}"
        out.append(("order", f"positional order changed from {positional} to {now}", check))
    return out


# -- specs ---------------------------------------------------------------------------------------
def _subject(subject_id: str, inventory: Inventory, files: dict[str, str],
             ctx: RunContext) -> Subject:  # fmt: skip
    """The subject as it is now, or as it was (a removed function or an ``__all__`` export)."""
    if subject_id in inventory.by_id:
        return inventory.by_id[subject_id]
    module, _, qualname = subject_id.partition(":")
    owner = inventory.by_id.get(f"{module}:{qualname.split('.')[0]}")
    file = files.get(module) or module.replace(".", "/") + ".py"
    line = owner.line if owner else 1 if file in ctx.sources else 0
    return Subject(module=module, qualname=qualname, file=file, line=line, end_line=line,
                   kind="method" if "." in qualname else "function", is_async=False, params=(),
                   returns=None, decorators=(), complexity=1, docstring="")  # fmt: skip


def _removed_test(subject: Subject) -> str:
    owner, _, name = subject.qualname.rpartition(".")
    where = f"getattr(module, {owner!r})" if owner else "module"
    body = (f"def {test_name(subject, 'is_still_available')}():\n"
            f"    module = importlib.import_module({subject.module!r})\n"
            f"    assert hasattr({where}, {name!r})\n")  # fmt: skip
    return render(["import importlib"], body)


def _signature_test(subject: Subject, key: str, check: str, old: str) -> str:
    what, _, name = key.partition(":")
    body = (f"def {test_name(subject, NAMES[what].format(name.replace('*', 'star')))}():\n"
            f"    {literal(f'The contract before: {subject.qualname}{old}.')}\n"
            f"    parameters = inspect.signature({subject.qualname}).parameters\n"
            f"    {check}\n")  # fmt: skip
    aliased = "target_module." in check  # a default that names the module's own constant
    imports = ["import inspect", import_line(subject)]
    imports += [f"import {dotted(subject.module)} as target_module"] if aliased else []
    return render(imports, body)


def _specs(subject: Subject, old: str, new: str | None, since: str,
           inventory: Inventory) -> list[TestSpec]:  # fmt: skip
    """One compatibility spec per way ``subject`` broke since the baseline."""
    if new is None:
        found = [("removed", f"{subject.qualname} was removed", _removed_test(subject))]
    elif old.startswith("(") and new.startswith("("):
        found = [(k, w, _signature_test(subject, k, c, old)) for k, w, c in breaks(old, new)]
    else:
        found = []  # a class that became a function still answers calls; attributes still exist
    contract = subject.qualname + (old if old.startswith("(") else "")
    return [make_spec(
        perspective=BackwardsCompatibility.name, perspective_id=BackwardsCompatibility.id,
        subject=subject, kind="unit", key=key, inventory=inventory, boost=3, test_code=code,
        rationale=f"{what} since {since}: callers written against {contract} break.",
        inputs=f"none: inspects {subject.qualname}", expected=f"the old contract holds: {old}",
    ) for key, what, code in found]  # fmt: skip


def _owner(subject_id: str) -> str:
    """``m:Class`` of a method ``m:Class.method``, else the subject itself."""
    module, _, qualname = subject_id.partition(":")
    return f"{module}:{qualname.rpartition('.')[0]}" if "." in qualname else ""


def _baseline(previous: dict[str, Any], api: dict[str, str],
              commit: str | None) -> tuple[dict[str, str], Any]:  # fmt: skip
    """What to compare with: the last snapshot, plus the breaks already reported while the
    target has not moved on (same commit, or the same API when there is no commit)."""
    same = previous.get("commit") == commit and (commit is not None or previous.get("api") == api)
    if same:
        return {**previous["api"], **previous.get("baseline", {})}, previous.get("baseline_commit")
    return previous["api"], previous.get("commit")


class BackwardsCompatibility:
    id: ClassVar[str] = "backwards_compatibility"
    name: ClassVar[str] = "Backwards Compatibility"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        api, files = snapshot(ctx)
        state: dict[str, Any] = {"commit": ctx.commit, "api": api, "files": files}
        counts = {"public_objects": len(api), "modules": len(files)}
        if "api" not in ctx.previous_state:
            summary = (
                f"First run: no earlier API snapshot to compare with, so no compatibility specs; "
                f"saved a snapshot of {len(api)} public objects in {len(files)} modules at "
                f"commit {ctx.commit or 'none (not a git checkout)'}."
            )
            return finish(ctx, [], summary, counts, state=state)
        old, since_commit = _baseline(ctx.previous_state, api, ctx.commit)
        since = f"commit {since_commit}" if since_commit else "the previous run"
        gone = {s for s in old if s not in api}
        changed = [s for s in old if api.get(s) != old[s] and _owner(s) not in gone]
        inventory = build_inventory(ctx) if changed else Inventory([], {}, {}, set(), {})
        old_files = {**ctx.previous_state.get("files", {}), **files}
        subjects = [(_subject(s, inventory, old_files, ctx), s) for s in sorted(changed)]
        specs = [spec for subject, s in subjects
                 for spec in _specs(subject, old[s], api.get(s), since, inventory)]  # fmt: skip
        state["baseline"] = {s.subject: old[s.subject] for s in specs}
        state["baseline_commit"] = since_commit
        removed = len({s.subject for s in specs if s.subject not in api})
        metrics = {**counts, "breaking_changes": len(specs), "removed": removed, "since": since}
        summary = _summary(specs, removed, since, api)  # signatures ARE the contract tested here
        return finish(ctx, specs, summary, metrics, state=state, api_contract=True)


def _summary(specs: list[TestSpec], removed: int, since: str, api: dict[str, str]) -> str:
    if not specs:
        return f"No breaking change to the {len(api)} public objects since {since}."
    subjects = sorted({s.subject for s in specs})
    return (f"{len(specs)} breaking changes since {since} in {len(subjects)} public objects "
            f"({removed} removed): {', '.join(subjects[:4])}; each spec pins the old contract "
            "and fails while the break is there.")  # fmt: skip
