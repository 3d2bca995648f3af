"""CI/CD Integration: the target's CI configuration, its test command, and a ready workflow.

Reads GitHub Actions workflows, ``.gitlab-ci.yml``, ``tox.ini``, ``noxfile.py`` and
``.pre-commit-config.yaml``; finds the commands that install the project and run its tests (with
file and line), and the Python versions. Every CI file that runs the tests gets an end-to-end
spec whose test parses it and checks it still does; CI that never runs the tests gets one that
fails today. Whatever is found, the details hold a GitHub Actions workflow that runs the tests
and gates on this worker's datasets (``autocoder gate`` and the failure modes count).
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from typing import Any, ClassVar

import yaml

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.codegen import dotted
from autocoder.workers.test_planning.inventory import (
    Inventory,
    Subject,
    build_inventory,
    importable,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import make_spec, render, slug

RUNNERS = re.compile(r"\b(pytest|py\.test|tox|nox|unittest|make test|hatch test|hatch run test)\b")
INSTALLS = re.compile(r"\b(pip install|uv sync|uv pip install|poetry install|pdm install)\b")
COMMAND_KEYS = ("run", "script", "before_script", "commands", "entry")
LINE = "  # line "  # noxfile commands carry the line of their session.run call
DEFAULT_TEST, MAX_FAILURE_MODES = "python -m pytest -q", 10


def ci_files(files: list[str]) -> list[str]:
    fixed = {".gitlab-ci.yml", "tox.ini", "noxfile.py", ".pre-commit-config.yaml"}
    return sorted(f for f in files if f in fixed or (
        f.startswith(".github/workflows/") and f.endswith((".yml", ".yaml"))))  # fmt: skip


def _strings(node: Any, key: str = "") -> list[tuple[str, str]]:
    """(key, text) for every command-like string of a parsed YAML document."""
    if isinstance(node, dict):
        return [pair for k, v in node.items() for pair in _strings(v, str(k))]
    if isinstance(node, list):
        return [pair for item in node for pair in _strings(item, key)]
    return [(key, str(node))] if key in (*COMMAND_KEYS, "python-version", "id") else []


def commands(path: str, text: str) -> tuple[list[str], list[str], list[str]]:
    """(command lines, Python versions, pre-commit hook ids) of one CI file."""
    if path == "tox.ini":
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text)
        found = [
            parser[s].get("commands", "") for s in parser.sections() if s.startswith("testenv")
        ]
        return [line for block in found for line in block.splitlines() if line.strip()], [], []
    if path == "noxfile.py":
        calls = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call)
                 and ast.unparse(n.func).endswith((".run", ".install"))]  # fmt: skip
        words = [
            " ".join(str(a.value) for a in c.args if isinstance(a, ast.Constant)) for c in calls
        ]
        return [f"pip install {w}" if ".install" in ast.unparse(c.func) else f"{w}{LINE}{c.lineno}"
                for c, w in zip(calls, words, strict=True) if w], [], []  # fmt: skip
    pairs = _strings(yaml.safe_load(text) or {})
    lines = [line.strip() for k, v in pairs if k in COMMAND_KEYS for line in v.splitlines()]
    versions = sorted({v for k, v in pairs if k == "python-version" and "${{" not in v})
    hooks = [v for k, v in pairs if k == "id"] if path.endswith("pre-commit-config.yaml") else []
    return [line for line in lines if line], versions, hooks


def line_of(lines: list[str], command: str) -> int:
    """The line of ``command``: given by ``commands`` for nox, else its first line's match."""
    if LINE in command:
        return int(command.rsplit(LINE, 1)[1])
    first = command.splitlines()[0].strip()
    return next((n for n, text in enumerate(lines, 1) if first and first in text), 1)


def survey(ctx: RunContext) -> dict[str, Any]:
    """Per CI file: its test commands and install commands (with lines), versions, hooks."""
    out: dict[str, Any] = {}
    for path in ci_files(ctx.sources.files):
        text = "\n".join(ctx.sources.lines(path))
        try:
            found, versions, hooks = commands(path, text)
        except (yaml.YAMLError, configparser.Error, SyntaxError, ValueError) as e:
            out[path] = {"error": f"{type(e).__name__}: {str(e)[:200]}"}
            continue
        lines = ctx.sources.lines(path)
        out[path] = {
            "tests": [{"command": c.split(LINE)[0], "line": line_of(lines, c),
                       "runner": m.group(1)} for c in found
                      if (m := RUNNERS.search(c)) and not INSTALLS.search(c)],
            "installs": [c for c in found if INSTALLS.search(c)],
            "python_versions": versions, "hooks": hooks,
        }  # fmt: skip
    return out


GATE = """import os, sys
from datasets import load_dataset
latest = load_dataset(os.environ["HF_USERNAME"] + "/autocoder-test-planning-results")["train"][-1]
failure_modes = latest["cumulative_insights"]["failure_modes_identified"]
print(failure_modes, "failure modes identified")
sys.exit(1 if failure_modes >= int(os.environ["AUTOCODER_MAX_FAILURE_MODES"]) else 0)"""


def python_version(ctx: RunContext, found: dict[str, Any]) -> str:
    """The CI's newest Python version, else the floor of ``requires-python``, else 3.12."""
    versions: list[str] = sorted(
        (v for f in found.values() for v in f.get("python_versions", [])),
        key=lambda v: [int(p) for p in re.findall(r"\d+", v)],
    )
    if versions:
        return versions[-1]
    try:
        data = tomllib.loads("\n".join(ctx.sources.lines("pyproject.toml")))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        data = {}
    floor = re.search(r"3\.\d+", str(data.get("project", {}).get("requires-python", "")))
    return floor.group(0) if floor else "3.12"


def snippet(ctx: RunContext, found: dict[str, Any]) -> str:
    """A GitHub Actions workflow: the target's tests, then the gate on this worker's datasets."""
    tests = [t["command"] for f in found.values() for t in f.get("tests", [])]
    installs = [c for f in found.values() for c in f.get("installs", [])]
    if not installs:
        requirements = "-r requirements.txt " if "requirements.txt" in ctx.sources.files else ""
        editable = "-e . " if {"pyproject.toml", "setup.py"} & set(ctx.sources.files) else ""
        installs = [f"pip install {editable}{requirements}pytest"]
    python = python_version(ctx, found)
    gate = "\n".join(f"          {line}" for line in GATE.splitlines())
    return f"""name: tests and autocoder gate
on: [push, pull_request]
jobs:
  tests:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
      - run: {installs[0]}
      - run: {tests[0] if tests else DEFAULT_TEST}
  gate:
    needs: tests
    runs-on: ubuntu-latest
    env:
      HF_TOKEN: ${{{{ secrets.HF_TOKEN }}}}
      HF_USERNAME: ${{{{ vars.HF_USERNAME }}}}
      AUTOCODER_PIP: autocoder  # or the path / git URL you install autocoder from
      AUTOCODER_MAX_FAILURE_MODES: "{MAX_FAILURE_MODES}"
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install "$AUTOCODER_PIP" datasets
      - run: autocoder gate --fail-on high --repo "$HF_USERNAME/autocoder-analysis-results"
      - name: failure modes identified by the test planning worker
        run: |
          python -c '
{gate}
          '
"""


def anchor_import(inventory: Inventory) -> tuple[str, int] | None:
    """A package to import to find the repository root from a test, and how many levels up."""
    by_file = {f: m for m, f in inventory.modules.items()}
    for file in sorted(by_file, key=lambda f: (not f.endswith("__init__.py"), len(f))):
        name = by_file[file]
        if importable(name) and name.split(".")[-1] not in (
            "setup",
            "conftest",
            "noxfile",
            "__main__",
        ):
            return name, len(file.split("/")) - 1
    return None


READERS = {
    "tox.ini": ("import configparser",
                "    parser = configparser.ConfigParser(interpolation=None)\n"
                "    parser.read(ROOT / {path!r})\n"
                "    commands = [parser[s].get('commands', '') for s in parser.sections()]\n"),
    "noxfile.py": ("", "    commands = [(ROOT / {path!r}).read_text(encoding='utf-8')]\n"),
    "yaml": ('import pytest\nyaml = pytest.importorskip("yaml")',
             "    text = (ROOT / {path!r}).read_text(encoding='utf-8')\n"
             "    commands = list(_commands(yaml.safe_load(text)))\n"),
}  # fmt: skip


def ci_test(path: str, runner: str, anchor: tuple[str, int] | None) -> str:
    """An end-to-end test: the CI file, parsed, still has a command that runs ``runner``."""
    root = "ROOT = Path.cwd()"
    if anchor:
        root = f"import {dotted(anchor[0])} as anchor\n\n"
        root += f"ROOT = Path(anchor.__file__).resolve().parents[{anchor[1]}]"
    head, read = READERS.get(path, READERS["yaml"])
    read = read.format(path=path)
    body = f"""{root}


def _commands(node, key=""):
    if isinstance(node, dict):
        for k, value in node.items():
            yield from _commands(value, k)
    elif isinstance(node, list):
        for item in node:
            yield from _commands(item, key)
    elif key in {COMMAND_KEYS!r}:
        yield str(node)


def test_{slug(path)}_runs_{slug(runner)}():
{read}    assert any({runner!r} in line and "install" not in line
               for command in commands for line in command.splitlines())
"""
    return render(["from pathlib import Path", head], body)


def ci_subject(path: str, line: int) -> Subject:
    """The CI file as a subject (``ci:<path>``): the evidence is configuration, not Python."""
    return Subject(module="ci", qualname=path, file=path, line=line, end_line=line,
                   kind="function", is_async=False, params=(), returns=None, decorators=(),
                   complexity=1, docstring="")  # fmt: skip


def _spec(path: str, facts: dict[str, Any], inventory: Inventory, workflow: str,
          anchor: tuple[str, int] | None) -> TestSpec:  # fmt: skip
    tests = facts["tests"]
    runner, line = (tests[0]["runner"], tests[0]["line"]) if tests else ("pytest", 1)
    found = f"runs `{tests[0]['command']}` at line {line}" if tests else "never runs the tests"
    return make_spec(
        perspective=CICDIntegration.name, perspective_id=CICDIntegration.id,
        subject=ci_subject(path, line), kind="end-to-end", key=f"runs-tests:{path}",
        inventory=inventory, boost=2 if tests else 4,
        rationale=(f"{path} {found}; the workflow below adds the gate on the analysis and "
                   "test planning datasets."),
        inputs=workflow,
        expected=(f"{path} keeps running {runner}; with the workflow, CI fails on high findings "
                  f"or {MAX_FAILURE_MODES}+ failure modes"),
        mocks="none: parses the CI file with pyyaml / configparser",
        test_code=ci_test(path, runner, anchor),
    )  # fmt: skip


class CICDIntegration:
    id: ClassVar[str] = "ci_integration"
    name: ClassVar[str] = "CI/CD Integration"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory, found = build_inventory(ctx), survey(ctx)
        workflow, anchor = snippet(ctx, found), anchor_import(inventory)
        runnable = {
            p: f
            for p, f in found.items()
            if "error" not in f and not p.endswith("pre-commit-config.yaml")
        }
        with_tests = {p: f for p, f in runnable.items() if f["tests"]}
        chosen = with_tests or dict(list(runnable.items())[:1])  # no test command: a failing spec
        specs = [_spec(p, f, inventory, workflow, anchor) for p, f in chosen.items()]
        tests = [{"file": p, **t} for p, f in with_tests.items() for t in f["tests"]]
        metrics = {"ci_files": len(found), "test_commands": len(tests),
                   "unreadable": sorted(p for p, f in found.items() if "error" in f)}  # fmt: skip
        details = {"ci_files": found, "test_commands": tests, "workflow": workflow}
        return finish(ctx, specs, _summary(found, tests), metrics, details)


def _summary(found: dict[str, Any], tests: list[dict[str, Any]]) -> str:
    if not found:
        return ("No CI configuration found (GitHub Actions, GitLab CI, tox, nox, pre-commit): "
                "nothing runs the tests on a push. The details hold a GitHub Actions workflow "
                f"that runs `{DEFAULT_TEST}` and gates on the autocoder datasets.")  # fmt: skip
    hooks = sum(len(f.get("hooks", [])) for f in found.values())
    ran = "; ".join(f"`{t['command']}` ({t['file']}:{t['line']})" for t in tests[:3])
    listed = ", ".join(found)
    return (
        f"{len(found)} CI files ({listed}), {hooks} pre-commit hooks. "
        + (f"Tests run with {ran}." if tests else "None of them runs the tests.")
        + " The details hold a workflow that adds the gate on the autocoder datasets."
    )
