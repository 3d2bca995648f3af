"""The User Experience perspective's scan: argparse parsers, click commands and typer apps.

Per file (cached by content): the parsers a function builds with their arguments under each
sub-command, the functions that call ``parse_args`` with the validations they make on the parsed
arguments, click commands and groups with their options, typer apps, and the names called under
``if __name__ == "__main__":``. Used by :mod:`.user_experience`.
"""

from __future__ import annotations

import ast
from typing import Any

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.workers.test_planning.perspectives._expressions import parse_file, trigger
from autocoder.workers.test_planning.perspectives._syntax import function_nodes

TOOL, VERSION = "autocoder-tp-user_experience", f"{__version__}-2"
FLAG_ONLY = {"store_true", "store_false", "count", "store_const", "append_const", "help", "version"}


def _literal(node: ast.AST | None) -> Any:
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return None


def _calls(node: ast.AST) -> list[tuple[str, ast.Call]]:
    return [(ast.unparse(c.func), c) for c in ast.walk(node) if isinstance(c, ast.Call)]


def _argument(call: ast.Call, command: str) -> dict[str, Any]:
    """One ``add_argument``, ``click.option`` or ``click.argument``."""
    flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    positional = bool(flags) and not flags[0].startswith("-")
    flag = next((f for f in flags if f.startswith("--")), flags[0] if flags else "")
    dest = _literal(kw.get("dest")) or flag.lstrip("-").replace("-", "_")
    choices, kind = _literal(kw.get("choices")), kw.get("type")
    if isinstance(kind, ast.Call) and ast.unparse(kind.func).endswith("Choice") and kind.args:
        choices, kind = _literal(kind.args[0]), None
    optional = _literal(kw.get("nargs")) in ("?", "*", -1) or "default" in kw
    return {"command": command, "flag": dest if positional else flag, "dest": dest,
            "positional": positional, "line": call.lineno,
            "required": _literal(kw.get("required")) is not False and (
                _literal(kw.get("required")) is True or (positional and not optional)),
            "choices": [str(c) for c in choices] if isinstance(choices, list | tuple) else [],
            "type": ast.unparse(kind).rsplit(".", 1)[-1].lower() if kind is not None else None,
            "flag_only": _literal(kw.get("action")) in FLAG_ONLY or "is_flag" in kw}  # fmt: skip


def _argparse(func: ast.AST) -> dict[str, Any] | None:
    """The parser a function builds: its arguments, each under its sub-command ("" for none)."""
    parsers: dict[str, str] = {}
    subs: set[str] = set()
    for node in sorted(
        (n for n in ast.walk(func) if isinstance(n, ast.Assign)), key=lambda n: n.lineno
    ):
        if not isinstance(call := node.value, ast.Call):
            continue
        target, name = ast.unparse(node.targets[0]), ast.unparse(call.func)
        owner = name.rpartition(".")[0]
        if name.endswith("ArgumentParser"):
            parsers[target] = ""
        elif name.endswith(".add_subparsers") and owner in parsers:
            subs.add(target)
        elif name.endswith(".add_parser") and owner in subs and call.args:
            parsers[target] = str(_literal(call.args[0]))
        elif name.endswith("_group") and owner in parsers:
            parsers[target] = parsers[owner]
    roots = [c for name, c in _calls(func) if name.endswith("ArgumentParser")]
    if not roots:
        return None
    args = [_argument(c, parsers[name.rpartition(".")[0]]) for name, c in _calls(func)
            if name.endswith(".add_argument") and name.rpartition(".")[0] in parsers]  # fmt: skip
    returns = any(isinstance(n, ast.Return) and n.value and ast.unparse(n.value) in parsers
                  for n in ast.walk(func))  # fmt: skip
    return {"line": roots[0].lineno, "arguments": sorted(args, key=lambda a: a["line"]),
            "commands": sorted({v for v in parsers.values() if v}), "returns": returns}  # fmt: skip


def _validation(node: ast.If, attributes: set[str]) -> dict[str, Any] | None:
    """``if args.x OP literal:`` ending in ``return N``, ``sys.exit(N)`` or ``parser.error()``."""
    found, codes = trigger(node.test, attributes), []
    for stmt in node.body:
        value = stmt.value if isinstance(stmt, ast.Return) else None
        for name, call in _calls(stmt):
            codes += [2] if name.endswith(".error") else []
            value = call.args[0] if name.endswith(("exit", "SystemExit")) and call.args else value
        codes += [_literal(value)] if isinstance(_literal(value), int) else []
    texts = [a.value for _, c in _calls(node) for a in c.args
             if isinstance(a, ast.Constant) and isinstance(a.value, str)]  # fmt: skip
    if not found or found[1] == "FALSY" or not codes:
        return None
    return {"dest": found[0].split(".", 1)[1], "value": found[1], "code": codes[0],
            "message": texts[0] if texts else "", "line": node.lineno}  # fmt: skip


def _entry(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Any] | None:
    """A function that calls ``parse_args``: how it gets argv, what it calls, what it checks."""
    parse = next((c for name, c in _calls(func) if name.endswith(".parse_args")), None)
    if parse is None:
        return None
    argv = ast.unparse(parse.args[0]) if parse.args else None
    assigned = [n for n in ast.walk(func) if isinstance(n, ast.Assign)]
    holder = next((ast.unparse(n.targets[0]) for n in assigned if parse in ast.walk(n.value)), "")
    attributes = {ast.unparse(n) for n in ast.walk(func) if isinstance(n, ast.Attribute)
                  and ast.unparse(n.value) == holder}  # fmt: skip
    checks = [_validation(n, attributes) for n in ast.walk(func) if isinstance(n, ast.If)]
    return {"line": func.lineno, "argv": argv in {a.arg for a in func.args.args},
            "bare": len(func.args.defaults) >= len(func.args.args),
            "validations": [c for c in checks if c],
            "calls": sorted({name.rsplit(".", 1)[-1] for name, _ in _calls(func)})}  # fmt: skip


def _click(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Any] | None:
    decorators = [(ast.unparse(d.func), d) for d in func.decorator_list if isinstance(d, ast.Call)]
    if not any(name.endswith((".command", ".group")) for name, _ in decorators):
        return None
    args = [_argument(d, "") for name, d in decorators if name.endswith((".option", ".argument"))]
    group = any(name.endswith(".group") for name, _ in decorators)
    return {"line": func.lineno, "arguments": args, "group": group, "name": func.name}


def _typer(tree: ast.Module) -> list[dict[str, Any]]:
    """``app = typer.Typer()`` with the first ``@app.command()`` function as its subject."""
    out = []
    for node in (n for n in tree.body if isinstance(n, ast.Assign)):
        app = ast.unparse(node.targets[0])
        commands = [q for q, f in function_nodes(tree) for d in f.decorator_list
                    if ast.unparse(d).startswith(f"{app}.command")]  # fmt: skip
        if ast.unparse(node.value).startswith("typer.Typer(") and commands:
            out.append({"name": app, "line": node.lineno, "qualname": commands[0], "group": True})
    return out


def _scan_file(ctx: RunContext, file: str) -> dict[str, Any]:
    """One file's parsers, entry points, click commands, typer apps and ``__main__`` calls."""
    facts: dict[str, Any] = {"parsers": [], "entries": [], "click": [], "typer": [], "main": []}
    text = "\n".join(ctx.sources.lines(file))
    if is_test_file(file) or not any(w in text for w in ("argparse", "click", "typer")):
        return facts
    tree = parse_file(ctx, file)
    if tree is None:
        return facts
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    click = any("click" in line.split() for line in imports)
    for qualname, func in ((q, f) for q, f in function_nodes(tree) if "." not in q):
        for key, found in (("parsers", _argparse(func)), ("entries", _entry(func)),
                           ("click", _click(func) if click else None)):  # fmt: skip
            facts[key] += [{"qualname": qualname, **found}] if found else []
    facts["typer"] = _typer(tree)
    guards = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    facts["main"] = [name for guard in guards for name, _ in _calls(guard)]
    return facts


def file_facts(ctx: RunContext) -> dict[str, Any]:
    """Every Python file's scan, cached by content."""
    return cached_per_file(ctx.cache, TOOL, VERSION, ctx.sources, ctx.sources.python,
                           lambda miss: {f: _scan_file(ctx, f) for f in miss})  # fmt: skip
