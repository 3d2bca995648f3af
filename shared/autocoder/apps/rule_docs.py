"""What each analyser and each rule is, for SARIF: a tool's home page, a rule's description.

GitHub code scanning shows a rule's ``shortDescription`` as the alert's title and groups alerts
by rule, so it must describe the rule, not one instance. Descriptions come from the tools' own
metadata where they have some (ruff's ``rule --all``, bandit's plugin registry), else from the
table below for autocoder's own rules and deptry's codes; a rule in neither gets its id spelled
out. Security rules are the only ones that get a ``security-severity``: GitHub turns that into
a security alert score.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import tempfile
from pathlib import Path

from autocoder import __version__
from autocoder.engine import toolkit
from autocoder.errors import AutocoderError

AUTOCODER_URI = "https://github.com/autocoder/autocoder"
TOOL_URIS = {
    "ruff": "https://docs.astral.sh/ruff/",
    "bandit": "https://bandit.readthedocs.io/",
    "radon": "https://radon.readthedocs.io/",
    "deptry": "https://deptry.com/",
    "detect-secrets": "https://github.com/Yelp/detect-secrets",
    "pip-audit": "https://github.com/pypa/pip-audit",
    "grimp": "https://grimp.readthedocs.io/",
    "coverage": "https://coverage.readthedocs.io/",
}  # every other tool that writes findings is autocoder's own (autocoder-web, test-map, ...)
SECURITY_TOOLS = frozenset({"bandit", "detect-secrets", "pip-audit", "autocoder-web"})
RUFF_SECURITY_RULE = re.compile(r"S\d{3}")  # ruff's flake8-bandit rules
SEMVER = re.compile(r"\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?")
DESCRIPTIONS = {
    "DEP001": "A module is imported but its distribution is not declared as a dependency",
    "DEP002": "A declared dependency is never imported or used",
    "DEP003": "A module is imported from a transitive dependency that is not declared",
    "DEP004": "A development dependency is imported by code the package ships",
    "DEP005": "A standard library module is declared as a dependency",
    "cyclomatic-complexity": "A function has more independent paths than the threshold",
    "import-cycle": "Modules import each other at import time",
    "layer-cycle": "Sibling subpackages depend on each other at import time",
    "layer-violation": "A lower layer imports a higher one, against the project's import contract",
    "god-module": "A module is both very long and has very many public names",
    "high-fan-out": "A module imports very many modules of its own project",
    "hub-module": "A module many modules import also imports many others",
    "blocking-call-in-async": "A blocking call inside `async def` stalls the event loop",
    "list-concat-in-loop": "A list is rebuilt by concatenation in a loop (quadratic)",
    "list-linear-op-in-loop": "A linear list operation runs in a loop over data (quadratic)",
    "list-membership-in-loop": "A membership test on a growing list runs in a loop (quadratic)",
    "nested-loop-join": "Nested loops over data compare outer and inner items (a quadratic join)",
    "nested-loop": "Three or more nested loops over data",
    "no-tests": "The repository has code and no test file",
    "untested-module": "A module no test imports or names",
    "unreferenced-public": "Most public names of a tested module are named by no test",
    "unpinned-requirement": "A runtime requirement has no pin or upper bound and no lock file",
    "no-dependency-declaration": "Code imports third-party packages but nothing declares them",
    "unreadable-declaration": "A dependency declaration file cannot be parsed",
    "AC-WEB-AUTOESCAPE": "Template autoescaping is switched off (cross-site scripting)",
    "AC-WEB-COMMAND": "Request data reaches a shell command (OS command injection)",
    "AC-WEB-COOKIE": "A session or CSRF cookie is sent without its security flags",
    "AC-WEB-CSRF": "CSRF protection is switched off",
    "AC-WEB-DEBUG": "Debug mode is on: tracebacks and settings are shown to any client",
    "AC-WEB-DESERIALIZE": "Request data reaches an unsafe deserialiser",
    "AC-WEB-HARDCODED-SECRET": "A secret key or signing key is hard-coded",
    "AC-WEB-MARK-SAFE": "A value is marked safe for HTML (cross-site scripting)",
    "AC-WEB-SAFE-FILTER": "The `|safe` template filter disables escaping (cross-site scripting)",
    "AC-WEB-OPEN-REDIRECT": "Request data chooses a redirect target (open redirect)",
    "AC-WEB-PATH-TRAVERSAL": "Request data reaches a file path (path traversal)",
    "AC-WEB-SQLI": "Request data reaches a SQL statement (SQL injection)",
    "AC-WEB-SSRF": "Request data reaches an outgoing HTTP request (SSRF)",
    "AC-WEB-SSTI": "Request data is rendered as a template (server-side template injection)",
}


def is_security_rule(tool: str, rule: str) -> bool:
    return tool in SECURITY_TOOLS or (
        tool == "ruff" and RUFF_SECURITY_RULE.fullmatch(rule) is not None
    )


def driver(tool: str, version: str | None) -> dict[str, str]:
    """The SARIF ``toolComponent`` of an analyser: its name, version and home page (autocoder's
    own analysers carry autocoder's version and address)."""
    if tool not in TOOL_URIS:
        return {"name": tool, "version": __version__, "informationUri": AUTOCODER_URI}
    component = {"name": tool, "informationUri": TOOL_URIS[tool]}
    if version:
        component["version"] = version
        if SEMVER.fullmatch(version):
            component["semanticVersion"] = version
    return component


def describe(tool: str, rule: str) -> tuple[str, str | None]:
    """A rule's one-line description and its documentation page (None when it has none)."""
    if tool == "ruff" and (doc := _ruff_rules().get(rule)):
        return doc
    if tool == "bandit" and (text := _bandit_rules().get(rule)):
        return text, None
    if tool == "detect-secrets":
        return f"A hard-coded secret that looks like: {rule}", None
    if tool == "pip-audit":
        return f"An installed dependency has the known vulnerability {rule}", None
    return DESCRIPTIONS.get(rule, rule.replace("-", " ").replace("_", " ").capitalize()), None


def _first_paragraph(explanation: str) -> str:
    """The first paragraph of ruff's "What it does" section, on one line."""
    body = explanation.split("## What it does", 1)[-1].strip()
    return " ".join(body.split("\n\n", 1)[0].split())


@functools.cache
def _ruff_rules() -> dict[str, tuple[str, str | None]]:
    """ruff's own description of every rule it has, by code (empty when ruff cannot run)."""
    try:
        done = toolkit.run_tool(
            ["ruff", "rule", "--all", "--output-format", "json"],
            cwd=Path(tempfile.gettempdir()),
            timeout_s=60,
            ok_codes=(0,),
        )
        rules = json.loads(done.stdout)
    except (AutocoderError, OSError, ValueError):
        return {}
    return {
        r["code"]: (
            _first_paragraph(r.get("explanation") or "") or r["name"],
            f"https://docs.astral.sh/ruff/rules/{r['name']}/",
        )
        for r in rules
    }


@functools.cache
def _bandit_rules() -> dict[str, str]:
    """bandit's title of every test (the ``B608: Test for ...`` line of its docstrings) and the
    message of every blacklist entry, by id (empty when bandit is not installed)."""
    try:
        from bandit.core import extension_loader
    except ImportError:
        return {}
    manager = extension_loader.MANAGER
    found = {rule: entry["message"] for rule, entry in manager.blacklist_by_id.items()}
    for rule, plugin in manager.plugins_by_id.items():
        module = sys.modules.get(plugin.plugin.__module__)
        docs = f"{plugin.plugin.__doc__ or ''}\n{getattr(module, '__doc__', '') or ''}"
        title = re.search(rf"^\W*{rule}: (.+?)\W*$", docs, re.MULTILINE)
        found[rule] = title.group(1) if title else plugin.name.replace("_", " ").capitalize()
    return found
