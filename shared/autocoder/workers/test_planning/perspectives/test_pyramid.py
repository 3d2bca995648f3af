"""Test Pyramid: the target's tests as unit / integration / end-to-end, the ratio, and the gaps.

A test is end-to-end when it runs a process (``subprocess``, ``sys.executable``, ``CliRunner``) or
a browser (``page``), or is marked or foldered so (``e2e``, ``acceptance``, ``system``);
integration when it touches files, sockets, HTTP clients or databases, uses ``tmp_path``-style or
client fixtures (followed through ``conftest.py`` fixtures), or is marked ``integration``; else
unit. Gaps: a module that reaches the outside and that no integration test imports gets
integration tests for what can run safely on ``tmp_path`` and ``monkeypatch`` (files named by a
parameter, SQLite files, environment variables); a console script no end-to-end test covers gets
one that runs its ``--help``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.codegen import dotted, identifier, literal
from autocoder.workers.test_planning.inventory import (
    Inventory,
    Subject,
    build_inventory,
    importable,
)
from autocoder.workers.test_planning.perspectives._entry import entry_points
from autocoder.workers.test_planning.perspectives._pyramid_scan import LEVELS, Pyramid, file_facts
from autocoder.workers.test_planning.perspectives._safe_calls import call_args
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import import_line, make_spec, render, test_name


def _call(subject: Subject, fixed: dict[str, str]) -> str | None:
    """``f(...)`` with ``fixed`` values and safe ones for the rest, or None."""
    args = call_args(subject, False, fixed)
    return None if args is None else f"{subject.qualname}({args})"


def _path(subject: Subject, param: str, name: str) -> dict[str, str]:
    hint = next((p.annotation or "" for p in subject.params if p.name == param), "")
    where = f"tmp_path / {literal(name)}"
    return {param: where if "Path" in hint else f"str({where})"}


def integration_gaps(subject: Subject, facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Integration tests for a function's files, SQLite and environment, on tmp_path."""
    out: list[dict[str, Any]] = []
    name = subject.qualname
    for param, call, line in facts["writes"]:
        if code := _call(subject, _path(subject, param, f"{name}.out")):
            check = f"    assert (tmp_path / {literal(f'{name}.out')}).exists()\n"
            out.append({"key": f"writes:{param}", "line": line, "what": f"{call}() creates {param}",
                        "body": f"    {code}\n{check}"})  # fmt: skip
    for param, call, line in [] if facts["guarded"] else facts["reads"]:
        if code := _call(subject, _path(subject, param, "missing.txt")):
            out.append({"key": f"reads:{param}", "line": line,
                        "what": f"{call}() of a missing {param} raises OSError",
                        "body": f"    with pytest.raises(OSError):\n        {code}\n"})  # fmt: skip
    for var, line in facts["env"][:1] if facts["returns"] else []:
        if code := _call(subject, {}):
            setenv = f"    monkeypatch.setenv({literal(var)}, str(tmp_path / "
            body = f'{setenv}"a"))\n    first = {code}\n{setenv}"b"))\n'
            out.append({"key": f"env:{var}", "line": line, "what": f"the result follows ${var}",
                        "body": f"{body}    assert {code} != first\n"})  # fmt: skip
    return out


def _gap_spec(subject: Subject, gap: dict[str, Any], inventory: Inventory) -> TestSpec:
    env = "monkeypatch" in gap["body"]
    head = f"def {test_name(subject, gap['key'])}({'monkeypatch, ' if env else ''}tmp_path):\n"
    imports = ["import pytest"] if "pytest." in gap["body"] else []
    return make_spec(
        perspective=TestPyramid.name, perspective_id=TestPyramid.id, subject=subject,
        kind="integration", key=gap["key"], inventory=inventory, line=gap["line"], boost=1,
        rationale=(f"{subject.module} reaches the outside at line {gap['line']} and no "
                   "integration test imports it: the integration layer is missing here."),
        inputs=gap["key"].replace(":", " "), expected=gap["what"],
        mocks="monkeypatch.setenv" if env else "none: real files under tmp_path",
        test_code=render([*imports, import_line(subject)], head + gap["body"]),
    )  # fmt: skip


def cli_spec(name: str, subject: Subject, inventory: Inventory) -> TestSpec:
    """An end-to-end test that runs the console script's function in a fresh interpreter."""
    program = (
        f"import sys; from {dotted(subject.module)} import {identifier(subject.owner)}; "
        f"sys.exit({dotted(subject.qualname)}())"
    )
    body = (f"def {test_name(subject, 'help_runs_end_to_end')}():\n"
            f"    program = {program!r}\n"
            '    done = subprocess.run([sys.executable, "-c", program, "--help"],\n'
            "                          capture_output=True, text=True, timeout=60)\n"
            "    assert done.returncode == 0, done.stderr\n"
            '    assert "usage" in done.stdout.lower()\n')  # fmt: skip
    return make_spec(
        perspective=TestPyramid.name, perspective_id=TestPyramid.id, subject=subject,
        kind="end-to-end", key=f"cli:{name}", inventory=inventory, boost=2,
        rationale=(f"Console script `{name}` runs {subject.id} and no end-to-end test runs it: "
                   "the top of the pyramid is missing."),
        inputs=f"{name} --help in a subprocess", expected="exit code 0 and a usage text",
        mocks="none: a real interpreter",
        test_code=render(["import subprocess", "import sys"], body),
    )  # fmt: skip


def _cli_gaps(ctx: RunContext, pyramid: Pyramid) -> list[tuple[str, Subject]]:
    """Console scripts (argparse, click, typer) whose module no end-to-end test imports."""
    out = []
    for name, target in entry_points(ctx).items():
        subject = pyramid.inventory.by_id.get(target.replace(" ", ""))
        imports = pyramid.inventory.imports.get(subject.file, []) if subject else []
        cli = {"argparse", "click", "typer"} & {i.split(".")[0] for i in imports}
        run = (
            any(name in t.split() or subject.module in t for t in pyramid.e2e_texts)
            if subject
            else False
        )
        if subject and cli and not run and 2 not in pyramid.reached.get(subject.module, set()):
            out.append((name, subject))
    return out


class TestPyramid:
    __test__ = False
    id: ClassVar[str] = "test_pyramid"
    name: ClassVar[str] = "Test Pyramid"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        facts = file_facts(ctx)
        pyramid, specs = Pyramid(inventory, facts), []
        exposed: dict[str, set[str]] = {}
        for s in inventory.subjects:
            found = facts.get(s.file, {}).get(s.qualname)
            if not found or not found["boundaries"] or pyramid.reached.get(s.module, {0}) - {0}:
                continue
            exposed.setdefault(s.module, set()).update(k for k, _, _ in found["boundaries"])
            if (
                s.public
                and s.kind == "function"
                and not (s.is_async or s.decorators)
                and importable(s.module)
            ):
                specs += [_gap_spec(s, gap, inventory) for gap in integration_gaps(s, found)]
        clis = _cli_gaps(ctx, pyramid)
        specs += [cli_spec(name, subject, inventory) for name, subject in clis]
        counts = Counter(t["level"] for t in pyramid.tests)
        total = len(pyramid.tests)
        metrics = {"tests": total, **{level: counts[level] for level in LEVELS},
                   "ratio": {lv: round(counts[lv] / total, 3) if total else 0.0 for lv in LEVELS},
                   "modules_without_integration_test": len(exposed),
                   "cli_without_end_to_end_test": len(clis)}  # fmt: skip
        details = {
            "tests": [f"{t['file']}:{t['line']} {t['name']}: {t['level']} ({t['why']})"
                      for t in pyramid.tests][:60],
            "integration_gaps": {m: sorted(kinds) for m, kinds in sorted(exposed.items())},
            "end_to_end_gaps": [f"{name} -> {s.id}" for name, s in clis],
        }  # fmt: skip
        return finish(ctx, specs, _summary(metrics, exposed, len(clis)), metrics, details)


def _summary(metrics: dict[str, Any], exposed: dict[str, set[str]], clis: int) -> str:
    text = f"{metrics['tests']} tests: " + ", ".join(
        f"{metrics[lv]} {lv} ({metrics['ratio'][lv]:.0%})" for lv in LEVELS) + "."  # fmt: skip
    if not exposed and not clis:
        return text + (" No gap: every module that reaches the outside has an integration test "
                       "and every console script an end-to-end test.")  # fmt: skip
    modules = "; ".join(f"{m} ({', '.join(sorted(k))})" for m, k in sorted(exposed.items())[:4])
    return (text + f" {len(exposed)} modules reach the outside with no integration test"
            + (f": {modules}." if modules else ".")
            + f" {clis} console scripts have no end-to-end test.")  # fmt: skip
