"""The analysis worker's severity policy: one place that rates every finding by what it is.

Tools rate by their own scales (bandit's severity x confidence, ruff's rule families), which
ranked a SQL injection below an unused import. Here a finding is rated by its vulnerability
class first (injection, hard-coded credential, weak password hashing), then by where it is (tests,
docs, migrations, lock files), then raised one step when another tool agrees on the same file,
line and class. Every change is written into the finding's message with its reason. The mapping
is documented in the README ("Severity policy") and pinned class by class in test_severity.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from autocoder.engine.modules import is_test_file
from autocoder.engine.sources import SourceFiles
from autocoder.schema import SEVERITIES, Finding, Severity, severity_rank
from autocoder.workers.analysis import flagged_code, sql_parts

CREDENTIAL_MARK = "looks like a real credential"  # security.py says so of a bandit B105-B107 value
# Perspectives whose evidence *is* a manifest or a test file: where a file is says nothing there.
CONTEXT_FREE_PERSPECTIVES = frozenset({"dependencies", "test_coverage"})

RULE_CLASSES: dict[str, str] = {
    **dict.fromkeys(("B608", "S608"), "sql-injection"),
    **dict.fromkeys(("B602", "B604", "B605", "S602", "S604", "S605"), "os-command-injection"),
    **dict.fromkeys(("B105", "B106", "B107", "S105", "S106", "S107"), "hardcoded-credential"),
    **dict.fromkeys(("B303", "B324", "S303", "S324"), "weak-hash"),
}
CWE_CLASSES: dict[str, str] = {
    "89": "sql-injection", "78": "os-command-injection", "94": "code-injection",
    "259": "hardcoded-credential", "798": "hardcoded-credential", "327": "weak-hash",
    "328": "weak-hash", "916": "weak-hash",
}  # fmt: skip
INJECTIONS = frozenset({"sql-injection", "os-command-injection", "code-injection"})
CLASS_ORDER = ("sql-injection", "os-command-injection", "code-injection", "hardcoded-credential")
# ruff families that are defects (kept in tests, one step down); every other rule is style there
DEFECT_RULES = ("F", "E9", "B", "PLE", "PLW", "syntax-error")
ENTROPY_SECRETS = frozenset({"Base64 High Entropy String", "Hex High Entropy String"})
LOCK_FILES = frozenset({"poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock", "package-lock.json",
                        "yarn.lock", "pnpm-lock.yaml", "Cargo.lock", "composer.lock"})  # fmt: skip
PRE_COMMIT_FILES = frozenset({".pre-commit-config.yaml", ".pre-commit-hooks.yaml"})
_CONTEXT_DIRS = {
    "docs": "docs", "doc": "docs", "examples": "example", "example": "example",
    "migrations": "migration", "versions": "migration", "fixtures": "fixture",
    "testdata": "fixture",
}  # fmt: skip
_SQL_STATEMENT = re.compile(r"\b(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b|\.(execute|raw)\(")
_FROM_ENVIRONMENT = re.compile(r"environ|getenv|get_editor|get_pager|\bwhich\(")
_PASSWORD = re.compile(r"passw|passwd|pwd", re.IGNORECASE)
LOCALE_DIRS = frozenset({"locale", "locales", "i18n", "l10n"})


@dataclass(frozen=True)
class Rating:
    """A severity and why."""

    severity: Severity
    reason: str


DROP = Rating("info", "dropped")  # context rule: the finding goes away


@dataclass
class PolicyStats:
    """What the policy did to one result: how many findings it raised, lowered and dropped."""

    raised: int = 0
    lowered: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # context -> findings dropped

    def as_metrics(self) -> dict[str, object]:
        return {"raised": self.raised, "lowered": self.lowered, "dropped": dict(self.dropped)}


def step(severity: Severity, steps: int) -> Severity:
    """``severity`` moved ``steps`` towards critical (negative: towards info), within the scale."""
    index = min(max(severity_rank(severity) - steps, 0), len(SEVERITIES) - 1)
    return SEVERITIES[index]  # type: ignore[return-value]


def finding_class(f: Finding) -> str | None:
    """The vulnerability class of ``f``: by its rule, else by the CWE its message names."""
    if f.tool == "detect-secrets":
        return None if f.rule.startswith("Public IP") else "hardcoded-credential"
    if f.rule in RULE_CLASSES:
        return RULE_CLASSES[f.rule]
    cwe = re.search(r"\bCWE-(\d+)\b", f.message)
    return CWE_CLASSES.get(cwe.group(1)) if cwe else None


def rank_key(f: Finding) -> tuple[int, int, str, int]:
    """Worst first; within a severity, injections before credentials before the rest."""
    cls = finding_class(f)
    order = CLASS_ORDER.index(cls) if cls in CLASS_ORDER else len(CLASS_ORDER)
    return severity_rank(f.severity), order, f.file, f.line


def file_context(path: str) -> str | None:
    """Where a file sits when it is not shipped code: test, docs, example, migration, fixture,
    lock or pre-commit; None for the project's own code."""
    *dirs, name = path.split("/")
    if name in LOCK_FILES or name.endswith(".lock"):
        return "lock"
    if name in PRE_COMMIT_FILES:
        return "pre-commit"
    for folder in reversed(dirs):
        if folder in _CONTEXT_DIRS and _is_context_folder(folder, dirs, name):
            return _CONTEXT_DIRS[folder]
    if is_test_file(path):
        return "test"
    return None


def _is_context_folder(folder: str, dirs: list[str], name: str) -> bool:
    """Migrations are numbered files (``0001_initial.py``), not a framework's ``migrations``
    package (``django/db/migrations/``); ``versions`` counts under ``alembic`` only."""
    if folder == "migrations":
        return name[:1].isdigit()
    return folder != "versions" or "alembic" in dirs


def false_high(f: Finding, sources: SourceFiles) -> Rating | None:
    """Known patterns a tool rates high that are not problems: made ``info`` (``low`` for
    bidirectional marks in locale data, which are the language's text, not a Trojan Source)."""
    if (
        f.rule == "B613"
        and LOCALE_DIRS & set(f.file.split("/")[:-1])
        and flagged_code.is_text_constant_line(f, sources)
    ):
        return Rating("low", "bidirectional marks in a locale's text constant write a "
                      "right-to-left language's own text direction (CWE-838 is about them in "
                      "code)")  # fmt: skip
    if f.rule == "F821" and flagged_code.only_in_local_annotations(f, sources):
        return Rating("info", "the name is only used in a local variable annotation, which Python "
                      "never evaluates (a type checker's concern, not a NameError)")  # fmt: skip
    if finding_class(f) == "weak-hash":
        text = flagged_code.window(sources, f, after=2)
        if "usedforsecurity=False" in text:
            return Rating("info", "the hash is declared not for security (usedforsecurity=False)")
        if flagged_code.hmac_use(sources, f):
            return Rating("info", "SHA1/MD5 inside an HMAC is not a weak-hash problem: HMAC does "
                          "not rely on collision resistance")  # fmt: skip
    return None


def class_rating(f: Finding, sources: SourceFiles) -> Rating | None:
    """The severity a finding's vulnerability class calls for, whatever the tool's confidence."""
    rate = _CLASS_RULES.get(finding_class(f) or "")
    return rate(f, sources) if rate else None


def _sql(f: Finding, sources: SourceFiles) -> Rating | None:
    if f.rule not in RULE_CLASSES:
        return None
    tree = sources.parse(f.file) if f.file.endswith(".py") and f.file in sources else None
    outside = sql_parts.formatted_parts_from_outside(tree, f.line) if tree else None
    if outside == []:
        return Rating("medium", "every part formatted into the SQL is a quoted identifier, a "
                      "placeholder, a constant or a SQL fragment the code built itself; check "
                      "that values go in as query parameters")  # fmt: skip
    statement = _SQL_STATEMENT.search(flagged_code.window(sources, f))
    if outside and statement:
        named = ", ".join(f"`{o.part}` ({o.why})" for o in outside[:3])
        return Rating("high", f"SQL built by string formatting from {named} (CWE-89): an "
                      "injection whatever the tool's confidence; use query parameters")  # fmt: skip
    if statement:
        return Rating("high", "SQL built by string formatting (CWE-89) is an injection whatever "
                      "the tool's confidence; use query parameters")  # fmt: skip
    return Rating("medium", "SQL-like text built by formatting, but no SQL statement or query "
                  "call at the line")  # fmt: skip


def _shell(f: Finding, sources: SourceFiles) -> Rating | None:
    if f.rule not in RULE_CLASSES or severity_rank(f.severity) > severity_rank("high"):
        return None  # a literal command (the tool's low) stays low
    if _FROM_ENVIRONMENT.search(flagged_code.enclosing_function(sources, f)[1]):
        return Rating("medium", "the shell command comes from the user's own environment or "
                      "PATH (EDITOR, PAGER, which): no trust boundary is crossed")  # fmt: skip
    return Rating("high", "a shell command built at run time (CWE-78): an injection if any "
                  "part is untrusted")  # fmt: skip


def _credential(f: Finding, sources: SourceFiles) -> Rating | None:
    if f.tool == "bandit" and CREDENTIAL_MARK in f.message:
        return Rating("high", "a hard-coded credential in code (CWE-259): rotate it and read it "
                      "from the environment")  # fmt: skip
    return None


def _weak_hash(f: Finding, sources: SourceFiles) -> Rating | None:
    if _PASSWORD.search(flagged_code.enclosing_function(sources, f)[1]):
        return Rating("high", "weak hashing of a password (CWE-916): use a slow salted hash "
                      "(argon2, bcrypt, scrypt, pbkdf2)")  # fmt: skip
    return Rating("medium", "a weak hash, but not of a password: it matters for signatures and "
                  "certificates, not for checksums or cache keys")  # fmt: skip


_CLASS_RULES: dict[str, Callable[[Finding, SourceFiles], Rating | None]] = {
    "sql-injection": _sql, "os-command-injection": _shell,
    "hardcoded-credential": _credential, "weak-hash": _weak_hash,
}  # fmt: skip


def context_rating(f: Finding, perspective_id: str) -> Rating | None:
    """Lower (or drop, :data:`DROP`) a finding in a file that is not shipped code."""
    context = file_context(f.file)
    if context is None or perspective_id in CONTEXT_FREE_PERSPECTIVES:
        return None
    if context in ("lock", "pre-commit"):
        if f.rule in ENTROPY_SECRETS:
            return DROP  # integrity hashes and pinned git revisions, not secrets
        return Rating(step(f.severity, -2), f"in a {context} file, which is generated or config")
    style = perspective_id == "code_quality" and not f.rule.startswith(DEFECT_RULES)
    if style and (f.tool == "ruff" or context == "migration"):
        return DROP  # style (naming, unused arguments of fixtures) in tests, docs, migrations
    return Rating(step(f.severity, -1), f"in {context} files, which are not shipped code")


def _evidence_class(f: Finding) -> str | None:
    """The class ``f`` vouches for; a bandit password check on a placeholder vouches for none."""
    cls = finding_class(f)
    placeholder = f.tool == "bandit" and CREDENTIAL_MARK not in f.message
    return None if cls == "hardcoded-credential" and placeholder else cls


def corroborated(findings: list[Finding]) -> dict[int, str]:
    """Index -> the other tools that report the same class at the same file and line."""
    tools: dict[tuple[str, int, str], set[str]] = {}
    for f in findings:
        if cls := _evidence_class(f):
            tools.setdefault((f.file, f.line, cls), set()).add(f"{f.tool} {f.rule}")
    out: dict[int, str] = {}
    for index, f in enumerate(findings):
        key = (f.file, f.line, _evidence_class(f) or "")
        others = {t for t in tools.get(key, set()) if not t.startswith(f"{f.tool} ")}
        if others:
            out[index] = ", ".join(sorted(others))
    return out


def rate(
    findings: list[Finding], perspective_id: str, sources: SourceFiles
) -> tuple[list[Finding], PolicyStats]:
    """Every finding rated once by the policy; dropped ones left out; the stats of what changed."""
    stats = PolicyStats()
    agree = corroborated(findings)
    out: list[Finding] = []
    for index, f in enumerate(findings):
        severity, reasons = _class_and_agreement(f, sources, agree.get(index))
        context = context_rating(f.model_copy(update={"severity": severity}), perspective_id)
        if context is DROP:
            where = file_context(f.file) or "other"
            stats.dropped[where] = stats.dropped.get(where, 0) + 1
            continue
        if context and context.severity != severity:
            severity = context.severity
            reasons.append(context.reason)
        out.append(_rerated(f, severity, reasons, stats))
    return out, stats


def _class_and_agreement(
    f: Finding, sources: SourceFiles, also: str | None
) -> tuple[Severity, list[str]]:
    """A known false high's fix; else the class's severity, one step up when tools agree."""
    if fix := false_high(f, sources):
        return fix.severity, [fix.reason]
    severity, reasons = f.severity, []
    if (by_class := class_rating(f, sources)) and by_class.severity != severity:
        severity = by_class.severity
        reasons.append(by_class.reason)
    ceiling = "critical" if finding_class(f) in INJECTIONS else "high"
    if also and severity_rank(severity) > severity_rank(ceiling):
        severity = step(severity, 1)
        reasons.append(f"one step up: also reported by {also}")
    return severity, reasons


def _rerated(f: Finding, severity: Severity, reasons: list[str], stats: PolicyStats) -> Finding:
    if severity == f.severity:
        return f
    if severity_rank(severity) < severity_rank(f.severity):
        stats.raised += 1
    else:
        stats.lowered += 1
    note = f" [severity {f.severity} -> {severity}: {'; '.join(reasons)}]"
    return f.model_copy(update={"severity": severity, "message": f.message + note})
