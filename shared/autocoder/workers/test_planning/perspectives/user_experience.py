"""User Experience: the target's command lines, their arguments, help, error messages, exit codes.

argparse parsers (with sub-commands), click commands and typer apps are read from the AST
(:mod:`._cli_scan`). Each gets end-to-end tests that call the real entry point in-process
(``main(argv)``, ``main()`` with ``sys.argv`` patched, or a ``CliRunner``): ``--help`` exits 0
with a usage line; a missing required argument, an invalid choice or a non-numeric value exits 2
with the framework's message; a validation in the entry point (``if args.amount < 0``) exits with
its code and message; valid arguments succeed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.codegen import is_dotted, is_identifier
from autocoder.workers.test_planning.inventory import Inventory, build_inventory
from autocoder.workers.test_planning.perspectives._cli_scan import file_facts
from autocoder.workers.test_planning.perspectives._entry import entry_points
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import import_line, make_spec, render, test_name

VALUES = {"int": "1", "float": "1.5"}
WORDS = {
    "argparse": {"help": "usage:", "required": "the following arguments are required: {flag}",
                 "choice": "invalid choice: 'not-a-choice'",
                 "type": "invalid {type} value: 'not-a-number'"},
    "click": {"help": "Usage:", "required": "Missing option '{flag}'",
              "argument": "Missing argument '{upper}'", "choice": "Invalid value for '{flag}'",
              "type": "Invalid value for '{flag}'"},
    "script": {"help": ""},  # a [project.scripts] entry read by other means: --help answers
}  # fmt: skip
ARGPARSE_RUN = """def _run(argv, monkeypatch, capsys):
{patch}    try:
        {call}
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    code = 0 if code is None else code if isinstance(code, int) else 1
    return code, captured.out + captured.err
"""
RUNNER_RUN = """def _run(argv, monkeypatch, capsys):
    result = CliRunner().invoke({target}, argv)
    return result.exit_code, result.output
"""
CASES = {"help": "--help", "required": "missing required argument", "choice": "invalid choice",
         "type": "non-numeric value", "validation": "entry-point validation",
         "valid": "valid arguments"}  # fmt: skip
Case = tuple[str, str, list[str], int, str, int]  # key, what, argv, exit code, message, line


# -- the command lines ---------------------------------------------------------------------------
def _argparse_cli(parser: dict[str, Any], entry: dict[str, Any] | None) -> Any:
    """How a test runs the parser: through its entry point, else through the builder."""
    if entry and entry["argv"]:
        call, patch = f"code = {entry['qualname']}(argv)", ""
    elif entry and entry["bare"]:
        call, patch = (
            f"code = {entry['qualname']}()",
            '    monkeypatch.setattr(sys, "argv", ["prog", *argv])\n',
        )
    elif parser["returns"] and not entry:
        call, patch = f"{parser['qualname']}().parse_args(argv)\n        code = 0", ""
    else:
        return None
    owner = entry or parser
    return {"framework": "argparse", "subject": f"{owner['module']}:{owner['qualname']}",
            "line": parser["line"], "harness": ARGPARSE_RUN.format(patch=patch, call=call),
            "imports": ["import sys"] if patch else [], "arguments": parser["arguments"],
            "commands": parser["commands"], "runs": entry is not None,
            "validations": entry["validations"] if entry else []}  # fmt: skip


def _runner_cli(kind: str, found: dict[str, Any]) -> dict[str, Any] | None:
    """A click command or typer app, invoked through its framework's ``CliRunner``; None when
    its module or name is no Python name (``apps[0] = typer.Typer()``)."""
    target, module = found.get("name", found["qualname"]), found["module"]
    if not (is_identifier(target) and is_dotted(module)):
        return None
    return {"framework": kind, "subject": f"{module}:{found['qualname']}", "line": found["line"],
            "harness": RUNNER_RUN.format(target=target), "commands": [], "validations": [],
            "imports": [f"from {kind}.testing import CliRunner", f"from {module} import {target}"],
            "arguments": found.get("arguments", []), "runs": not found["group"]}  # fmt: skip


def _script_clis(scripts: dict[str, str], covered: set[str], inventory: Inventory) -> Any:
    """Console scripts no parser was found for: they must at least answer ``--help``."""
    out = []
    for name, target in scripts.items():
        subject = inventory.by_id.get(target)
        required = [p for p in subject.params if p.default is None] if subject else []
        if subject is None or target in covered or any(p.kind[:4] != "var_" for p in required):
            continue
        patch = f'    monkeypatch.setattr(sys, "argv", [{name!r}, *argv])\n'
        call = f"code = {subject.qualname}()"
        out.append({"framework": "script", "subject": target, "line": subject.line,
                    "harness": ARGPARSE_RUN.format(patch=patch, call=call),
                    "imports": ["import sys"], "arguments": [], "commands": [],
                    "validations": [], "runs": False})  # fmt: skip
    return out


def _clis(
    facts: dict[str, Any], preferred: set[str], module_of: dict[str, str]
) -> list[dict[str, Any]]:
    found = [(k, {**x, "module": module_of[f]}) for f, fact in facts.items()
             for k in ("parsers", "entries", "click", "typer") for x in fact[k]]  # fmt: skip
    entries = [e for k, e in found if k == "entries"]
    out = [_runner_cli(k, x) for k, x in found if k in ("click", "typer")]
    for parser in (x for k, x in found if k == "parsers"):
        name = parser["qualname"].rsplit(".", 1)[-1]
        linked = [e for e in entries if name in e["calls"] or e["qualname"] == parser["qualname"]]
        linked.sort(key=lambda e: f"{e['module']}:{e['qualname']}" not in preferred)
        out.append(_argparse_cli(parser, linked[0] if linked else None))
    return [c for c in out if c]


# -- cases and specs -----------------------------------------------------------------------------
def _argv(arguments: list[dict[str, Any]], overrides: dict[str, str]) -> list[str]:
    """Every required argument with a valid value, ``overrides`` replacing or adding some."""
    out: list[str] = []
    for a in (a for a in arguments if a["required"] or a["dest"] in overrides):
        value = overrides.get(a["dest"]) or (a["choices"] or [VALUES.get(a["type"] or "", "x")])[0]
        out += [value] if a["positional"] else [a["flag"]] if a["flag_only"] else [a["flag"], value]
    return out


def _argument_cases(a: dict[str, Any], own: list[dict[str, Any]], prefix: list[str],
                    words: dict[str, str]) -> list[Case]:  # fmt: skip
    """A missing required argument, an invalid choice, a non-numeric value: exit 2, and why."""
    dest, others = a["dest"], [b for b in own if b is not a]
    found: list[tuple[str, str, list[dict[str, Any]], dict[str, str], str]] = []
    if a["required"] and not a["flag_only"]:
        template = words["argument" if a["positional"] and "argument" in words else "required"]
        found.append(("required", f"requires_{dest}", others, {}, template))
    if a["choices"]:
        bad = {dest: "not-a-choice"}
        found.append(("choice", f"rejects_an_invalid_{dest}", own, bad, words["choice"]))
    elif a["type"] in VALUES:
        bad = {dest: "not-a-number"}
        found.append(("type", f"rejects_a_non_numeric_{dest}", own, bad, words["type"]))
    fill = {"flag": a["flag"], "upper": dest.upper(), "type": a["type"]}
    return [
        (
            f"{a['command']}:{key}:{dest}",
            what,
            prefix + _argv(args, values),
            2,
            template.format(**fill),
            a["line"],
        )
        for key, what, args, values, template in found
    ]


def _cases(cli: dict[str, Any]) -> list[Case]:
    """Help, each argument's errors and valid arguments per (sub-)command, then validations."""
    words, line = WORDS.get(cli["framework"], WORDS["click"]), cli["line"]
    root = [a for a in cli["arguments"] if not a["command"]]
    out: list[Case] = [("help", "help_exits_0", ["--help"], 0, words["help"], line)]
    for cmd in cli["commands"] or [""]:
        own = [a for a in cli["arguments"] if a["command"] == cmd] if cmd else root
        prefix = [*_argv(root, {}), cmd] if cmd else []
        if cmd:
            out.append(
                (f"{cmd}:help", f"{cmd}_help_exits_0", [cmd, "--help"], 0, words["help"], line)
            )
        out += [case for a in own for case in _argument_cases(a, own, prefix, words)]
        if cli["runs"]:
            valid = prefix + _argv(own, {})
            out.append((f"{cmd}:valid", f"{cmd}_accepts_valid_arguments", valid, 0, "", line))
    for v in (v for v in cli["validations"] if v["dest"] in {a["dest"] for a in root}):
        what = f"rejects_{v['dest']}_{v['value'].replace('-', 'minus_')}"
        argv = _argv(root, {v["dest"]: v["value"]})
        out.append((f"validation:{v['dest']}", what, argv, v["code"], v["message"], v["line"]))
    return out


def _spec(cli: dict[str, Any], case: Case, inventory: Inventory) -> TestSpec:
    key, what, argv, code, message, line = case
    subject = inventory.by_id[cli["subject"]]
    chdir = "    monkeypatch.chdir(tmp_path)\n" if code == 0 and "--help" not in argv else ""
    check = f"    assert {message!r} in output\n" if message else ""
    check += '    assert output.strip(), "--help printed nothing"\n' if argv == ["--help"] else ""
    body = (f"{cli['harness']}\n\ndef {test_name(subject, what)}(monkeypatch, capsys, tmp_path):\n"
            f"{chdir}    code, output = _run({argv!r}, monkeypatch, capsys)\n"
            f"    assert code == {code}, output\n{check}")  # fmt: skip
    runner = cli["framework"] in ("click", "typer")
    imports = [*cli["imports"], "" if runner else import_line(subject)]
    shown = f"{cli['framework']} command line {subject.qualname} for `{' '.join(argv)}`"
    return make_spec(
        perspective=UserExperience.name, perspective_id=UserExperience.id, subject=subject,
        kind="end-to-end", key=f"{cli['framework']}:{key}", line=line, inventory=inventory,
        rationale=f"what a user sees from the {shown}",
        inputs=f"argv {argv!r}", boost=1, test_code=render(imports, body),
        expected=f"exit code {code}" + (f", output contains {message!r}" if message else ""),
        mocks="capsys" + ("; tmp_path as the working directory" if chdir else ""),
    )  # fmt: skip


class UserExperience:
    id: ClassVar[str] = "user_experience"
    name: ClassVar[str] = "User Experience"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        facts = file_facts(ctx)
        scripts = entry_points(ctx)
        guarded = {
            f"{inventory.module_of[f]}:{m}" for f, fact in facts.items() for m in fact["main"]
        }
        clis = _clis(facts, set(scripts.values()) | guarded, inventory.module_of)
        clis += _script_clis(scripts, {c["subject"] for c in clis}, inventory)
        clis = [c for c in clis if c["subject"] in inventory.by_id]
        cases = [(cli, case) for cli in clis for case in _cases(cli)]
        specs = [_spec(cli, case, inventory) for cli, case in cases]
        kinds = Counter(next(p for p in case[0].split(":") if p in CASES) for _, case in cases)
        metrics: dict[str, Any] = {
            "cases": dict(kinds.most_common()),
            "command_lines": len(clis),
            "arguments": sum(len(c["arguments"]) for c in clis),
            "validations": sum(len(c["validations"]) for c in clis),
            "entry_points": len(scripts),
        }
        listing = [
            f"{c['framework']} {c['subject']}: {len(c['arguments'])} arguments" for c in clis
        ]
        details = {"command_lines": listing[:30], "scripts": scripts}
        return finish(ctx, specs, _summary(clis, len(specs), metrics), metrics, details)


def _summary(clis: list[dict[str, Any]], specs: int, m: dict[str, Any]) -> str:
    if not clis:
        return "No argparse parser, click command or typer app found: no CLI to test."
    names = ", ".join(f"{c['subject']} ({c['framework']})" for c in clis[:3])
    cases = ", ".join(f"{n} {CASES[k]}" for k, n in m["cases"].items())
    return (
        f"{len(clis)} command lines ({names}) with {m['arguments']} arguments and "
        f"{m['validations']} validations in their entry points; {specs} end-to-end specs: {cases}."
    )
