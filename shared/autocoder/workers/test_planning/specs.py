"""Building test specifications: stable ids, priority from risk, and test code that parses.

Every perspective of the test planning worker builds its specs with :func:`make_spec`, which
refuses test code that is not valid Python (a bug in the perspective, never shipped as a spec).
"""

from __future__ import annotations

import ast
import hashlib
import keyword
import re

from autocoder.schema import SpecKind, TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Subject


def spec_id(perspective_id: str, subject: str, kind: str, key: str) -> str:
    """Stable across runs: what is tested and why, never where the line moved to."""
    return hashlib.sha256(f"{perspective_id}\0{subject}\0{kind}\0{key}".encode()).hexdigest()[:16]


def risk_score(subject: Subject, inventory: Inventory) -> int:
    """Higher is riskier: complexity, fan-in of its module, public exposure, missing tests."""
    score = min(subject.complexity, 20) // 4
    score += min(inventory.fan_in(subject.module), 10) // 3
    score += 2 if subject.public else 0
    score += 1 if subject.is_async else 0
    score += 3 if not inventory.tested(subject) else 0
    return score


def priority(subject: Subject, inventory: Inventory, boost: int = 0) -> int:
    """1 (write first) to 5, from :func:`risk_score` plus a perspective-specific ``boost``."""
    score = risk_score(subject, inventory) + boost
    return 1 if score >= 9 else 2 if score >= 7 else 3 if score >= 5 else 4 if score >= 3 else 5


def slug(text: str, limit: int = 60) -> str:
    """A lower_snake identifier fragment from any text."""
    cleaned = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()[:limit].strip("_")
    return cleaned or "case"


def test_name(subject: Subject, what: str) -> str:
    name = f"test_{slug(subject.qualname.replace('.', '_'))}_{slug(what)}"
    return name if not keyword.iskeyword(name) else f"{name}_"


def import_line(subject: Subject) -> str:
    """How a test imports the subject (a method through its class)."""
    return f"from {subject.module} import {subject.owner}"


def call_target(subject: Subject) -> str:
    """The expression a test calls: ``func`` or ``Class.method`` (the test makes instances)."""
    return subject.qualname


def render(imports: list[str], body: str) -> str:
    """A whole test module: the imports in the order given (duplicates dropped), then the tests."""
    head = "\n".join(dict.fromkeys(line for line in imports if line))
    return f"{head}\n\n\n{body.strip()}\n"


def make_spec(
    *,
    perspective: str,
    perspective_id: str,
    subject: Subject,
    kind: SpecKind,
    key: str,
    rationale: str,
    inputs: str,
    expected: str,
    test_code: str,
    inventory: Inventory,
    mocks: str = "",
    line: int | None = None,
    boost: int = 0,
) -> TestSpec:
    """A validated spec. Raises ValueError when ``test_code`` does not parse."""
    try:
        ast.parse(test_code)
    except SyntaxError as e:
        raise ValueError(f"generated test for {subject.id} ({key}) does not parse: {e}") from e
    return TestSpec(
        id=spec_id(perspective_id, subject.id, kind, key),
        perspective=perspective,
        subject=subject.id,
        file=subject.file,
        line=line if line is not None else subject.line,
        kind=kind,
        rationale=rationale,
        inputs=inputs,
        expected=expected,
        mocks=mocks,
        priority=priority(subject, inventory, boost),
        test_code=test_code,
    )
