"""Templates that switch escaping off: ``{{ value|safe }}`` and ``{% autoescape false %}`` in
HTML and Jinja files, reported at the template's own file and line."""

from __future__ import annotations

import re

from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding
from autocoder.workers.analysis import evidence

TOOL = "autocoder-web"
TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2")
SAFE_FILTER = re.compile(r"\{\{[^}]*\|\s*safe\b")
AUTOESCAPE_OFF = re.compile(r"\{%-?\s*autoescape\s+(false|off)\b", re.IGNORECASE)


def is_mail_template(file: str) -> bool:
    """``password_reset_email.html``: a mail body is text, where escaping would garble it."""
    name = file.rsplit("/", 1)[-1].lower()
    return "mail" in name


def template_findings(sources: SourceFiles) -> list[Finding]:
    """``{{ value|safe }}`` and ``{% autoescape false %}`` in HTML and Jinja templates."""
    found: list[Finding] = []
    for file in (f for f in sources.files if f.lower().endswith(TEMPLATE_SUFFIXES)):
        for number, text in enumerate(sources.lines(file), start=1):
            if SAFE_FILTER.search(text):
                found.append(
                    evidence.finding(
                        sources,
                        tool=TOOL,
                        rule="AC-WEB-SAFE-FILTER",
                        severity="low",
                        file=file,
                        line=number,
                        message="|safe inserts this value without escaping; make sure "
                        "it holds no user input (CWE-79)",
                    )
                )
            if AUTOESCAPE_OFF.search(text) and not is_mail_template(file):
                found.append(
                    evidence.finding(
                        sources,
                        tool=TOOL,
                        rule="AC-WEB-AUTOESCAPE",
                        severity="medium",
                        file=file,
                        line=number,
                        message="autoescaping switched off in the template (CWE-79)",
                    )
                )
    return found
