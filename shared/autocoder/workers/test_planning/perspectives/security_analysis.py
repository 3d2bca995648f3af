"""Security Analysis: abuse-case tests where a parameter reaches eval, SQL, a shell, pickle or
yaml, or a file path.

Where the findings come from: the analysis worker's latest Security Audit (bandit) when its
dataset is available and was made at the target's commit, each finding mapped to its enclosing
function; else the AST scan of :mod:`._sinks`. Either way the AST says which parameter reaches
the sink, and the test sends an attack payload through it: Python that sets an environment
variable, ``x; touch ...`` for a shell, ``x' OR '1'='1`` for SQL, ``../`` for a path. A test that
fails today is a finding: the input reached the sink unguarded.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import FINDINGS, FindingRow, TestSpec
from autocoder.store.peers import latest_pass
from autocoder.workers.test_planning.inventory import Inventory, Subject, build_inventory
from autocoder.workers.test_planning.perspectives._expressions import call_expression, call_imports
from autocoder.workers.test_planning.perspectives._sinks import sinks_per_file
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import (
    import_line,
    make_spec,
    module_alias,
    render,
    test_name,
)

ANALYSIS = "autocoder-analysis-results"
AUDIT = "Security Audit"
RULES = {"B307": "code", "B102": "code", "B608": "sql", "B602": "shell", "B604": "shell",
         "B605": "shell", "B609": "shell", "B301": "deserialise",
         "B506": "deserialise"}  # fmt: skip
CONNECTIONS = {"conn", "connection", "con", "db", "cursor", "cur"}
PROBE = "AUTOCODER_ABUSE_PROBE"
SET_PROBE = f"import os; os.environ['{PROBE}'] = '1'"
PAYLOADS = {
    "code": f"PAYLOAD = \"__import__('os').environ.__setitem__('{PROBE}', '1')\"",
    "pickle": f"class _Probe:\n    def __reduce__(self):\n        return (exec, ({SET_PROBE!r},))"
    "\n\n\nPAYLOAD = pickle.dumps(_Probe())",
    "yaml": f"PAYLOAD = {f'!!python/object/apply:builtins.exec [{SET_PROBE!r}]'!r}",
    "shell": 'PAYLOAD = "x; touch autocoder-abuse-probe"',
    "sql": "PAYLOAD = \"x' OR '1'='1\"",
    "path": 'PAYLOAD = "../../../../../../../../etc/passwd"',
}
INPUTS = {
    "code": "a Python expression that sets an environment variable",
    "pickle": "a pickle whose __reduce__ runs exec", "yaml": "a !!python/object/apply exec tag",
    "shell": "'x; touch autocoder-abuse-probe'", "sql": "x' OR '1'='1",
    "path": "'../' * 8 + 'etc/passwd'",
}  # fmt: skip
CHECKS = {
    "code": "the input ran as Python code", "deserialise": "deserialising the input ran code",
    "shell": "the input reaches a shell unquoted", "sql": "the input is part of the SQL text",
    "path": "the input escapes the base directory",
}  # fmt: skip


# -- where the findings come from ----------------------------------------------------------------
def _audit(ctx: RunContext) -> tuple[list[FindingRow] | None, str]:
    """The Security Audit findings at the target's commit, or None and why they are not used."""
    found = latest_pass(ctx.peers(ANALYSIS), AUDIT, FINDINGS, ctx.commit, where=ANALYSIS)
    if isinstance(found, str):
        return None, f"own AST scan: {found}"
    return found.rows_as(FindingRow), f"{AUDIT} findings of {ANALYSIS} iteration {found.iteration}"


def enclosing(inventory: Inventory, file: str, line: int) -> Subject | None:
    """The narrowest function, method or class of ``file`` whose lines hold ``line``."""
    around = [s for s in inventory.subjects if s.file == file and s.line <= line <= s.end_line]
    return min(around, key=lambda s: s.end_line - s.line, default=None)


def _from_audit(rows: list[FindingRow], sinks: list[dict[str, Any]], inventory: Inventory) -> Any:
    """Sinks the audit flagged (with their rule), plus the path sinks bandit has no rule for."""
    chosen, unmapped, mapped = [], [], []
    for row in rows:
        subject = enclosing(inventory, row.file, row.line)
        category = RULES.get(row.rule)
        if category is None or subject is None:
            unmapped.append(f"{row.file}:{row.line} {row.rule}")
            continue
        mapped.append(f"{row.file}:{row.line} {row.rule} -> {subject.id}")
        chosen += [{**s, "rule": row.rule} for s in sinks if s["subject"] == subject.id
                   and s["category"] == category and s["line"] == row.line]  # fmt: skip
    chosen += [s for s in sinks if s["category"] == "path"]
    return chosen, {"mapped_findings": mapped[:30], "findings_without_abuse_case": unmapped[:30]}


# -- test code -----------------------------------------------------------------------------------
def _kind(sink: dict[str, Any]) -> str:
    if sink["category"] != "deserialise":
        return str(sink["category"])
    return "yaml" if "yaml" in sink["call"] else "pickle"


def _test(sink: dict[str, Any], subject: Subject, inventory: Inventory) -> str | None:
    category, param = sink["category"], sink["param"]
    values = {param: "PAYLOAD"} if param else {}
    connection = next((p.name for p in subject.params if p.name in CONNECTIONS), None)
    if category == "sql" and connection:
        values[connection] = "connection"
    call = call_expression(subject, inventory, values) if param else None
    if call is None or (category == "sql" and not (connection or sink["connect"])):
        return None
    kind = _kind(sink)
    body = BODIES[kind](call, sink)
    imports = ["import os", *call_imports(call), *IMPORTS.get(kind, [])]
    imports += [module_alias(subject, "target_module"), import_line(subject)]
    name = test_name(subject, f"resists_{kind}_injection_through_{param}")
    return render(imports, f"{PAYLOADS[kind]}\n\n\ndef {name}(monkeypatch):\n{body}")


def _probe(call: str, _sink: dict[str, Any]) -> str:
    return (f'    monkeypatch.delenv("{PROBE}", raising=False)\n{_attempt(call)}'
            f'    assert "{PROBE}" not in os.environ, "the input ran as code"\n')  # fmt: skip


def _attempt(call: str) -> str:
    return (
        f"    try:\n        {call}\n    except (Exception, SystemExit):\n        pass  # rejected\n"
    )


def _shell(call: str, _sink: dict[str, Any]) -> str:
    return f"""    commands = []

    def record(*args, **kwargs):
        commands.append((args[0] if args else kwargs.get("args"), kwargs.get("shell", False)))
        return MagicMock(returncode=0, stdout="", stderr="")

    for name in ("call", "run", "Popen", "check_call", "check_output"):
        for owner in (target_module, subprocess):  # the module's own names only if imported
            if getattr(owner, name, None) is getattr(subprocess, name):
                monkeypatch.setattr(owner, name, record)
    for name in ("system", "popen"):
        monkeypatch.setattr(os, name, lambda command, *a, **k: record(command, shell=True))
{_attempt(call)}    for command, shell in commands:
        if shell and isinstance(command, str) and PAYLOAD in command:
            assert PAYLOAD in shlex.split(command), f"reaches a shell unquoted: {{command}}"
"""


def _sql(call: str, sink: dict[str, Any]) -> str:
    return f"""    connection, statements = MagicMock(), []

    def execute(sql, *args, **kwargs):
        statements.append(str(sql))
        return MagicMock()

    for owner in (connection, connection.cursor.return_value):
        owner.execute.side_effect = owner.executemany.side_effect = execute
        owner.executescript.side_effect = execute
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connection)
{_attempt(call)}    if not statements:
        pytest.skip("the call with sampled arguments runs no statement")
    assert not any(PAYLOAD in s for s in statements), "the input is part of the SQL text"
"""


def _path(call: str, sink: dict[str, Any]) -> str:
    return f"""    base, opened = os.path.realpath({sink["base"]!r}), []

    def record(path, *args, **kwargs):
        opened.append(os.fspath(path))
        raise FileNotFoundError(path)

    monkeypatch.setattr(target_module, "open", record, raising=False)
{_attempt(call)}    for path in opened:
        assert os.path.realpath(path).startswith(base + os.sep), f"escapes {{base}}: {{path}}"
"""


BODIES = {"code": _probe, "pickle": _probe, "yaml": _probe, "shell": _shell, "sql": _sql,
          "path": _path}  # fmt: skip
IMPORTS = {"pickle": ["import pickle"], "shell": ["import shlex", "import subprocess",
           "from unittest.mock import MagicMock"],
           "sql": ["import sqlite3", "from unittest.mock import MagicMock",
                   "import pytest"]}  # fmt: skip


# -- specs ---------------------------------------------------------------------------------------
def _spec(sink: dict[str, Any], subject: Subject, inventory: Inventory) -> TestSpec | None:
    code = _test(sink, subject, inventory)
    if code is None:
        return None
    rule = f"bandit {sink['rule']}: " if sink.get("rule") else ""
    return make_spec(
        perspective=SecurityAnalysis.name, perspective_id=SecurityAnalysis.id, subject=subject,
        kind="security", key=f"abuse:{sink['category']}:{sink['param']}", line=sink["line"],
        rationale=f"{rule}{sink['param']} reaches `{sink['call']}` at line {sink['line']}",
        inputs=f"{sink['param']}: {INPUTS[_kind(sink)]}",
        expected=f"rejected or neutralised: fails if {CHECKS[sink['category']]}",
        mocks="monkeypatch: the sink records instead of acting where it would touch the system",
        test_code=code, inventory=inventory, boost=3,
    )  # fmt: skip


class SecurityAnalysis:
    id: ClassVar[str] = "security_analysis"
    name: ClassVar[str] = "Security Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = build_inventory(ctx)
        sinks_by_file = sinks_per_file(ctx)
        sinks = [{**s, "subject": f"{ctx.sources.module(f)}:{s['qualname']}"}
                 for f, found in sinks_by_file.items() for s in found]  # fmt: skip
        sinks = [s for s in sinks if s["subject"] in inventory.by_id]
        rows, source = _audit(ctx)
        chosen, details = _from_audit(rows, sinks, inventory) if rows is not None else (sinks, {})
        specs = [_spec(s, inventory.by_id[s["subject"]], inventory) for s in chosen]
        made = list({s.id: s for s in specs if s is not None}.values())  # one per id
        left = [f"{s['subject']} line {s['line']}: {s['call']}"
                for s, m in zip(chosen, specs, strict=True) if m is None]  # fmt: skip
        metrics = {
            "sinks": len(chosen),
            "by_category": _count(chosen),
            "without_test": len(left),
            "findings_source": "own scan" if rows is None else "analysis dataset",
        }
        details = {"source": source, **details, "sinks_without_test": left[:30]}
        return finish(ctx, made, _summary(chosen, made, left, source), metrics, details)


def _count(sinks: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in sinks:
        out[s["category"]] = out.get(s["category"], 0) + 1
    return out


def _summary(chosen: list[dict[str, Any]], made: list[TestSpec], left: list[str],
             source: str) -> str:  # fmt: skip
    if not chosen:
        return f"No parameter reaches eval, SQL, a shell, pickle/yaml or a file path ({source})."
    counts = ", ".join(f"{n} {c}" for c, n in _count(chosen).items())
    riskiest = ", ".join(s.subject for s in made[:3]) or "none"
    return (
        f"{len(chosen)} dangerous sinks ({counts}); {len(made)} abuse-case tests, {len(left)} "
        f"sinks no parameter reaches or no call could be built for. Riskiest: {riskiest}. "
        f"Source: {source}."
    )
