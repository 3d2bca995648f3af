"""What is published and what it says: the patch to publish, the rule of which patches may be,
the pull request's title and body, and the result.

The body is plain GitHub markdown that a reviewer reads before the diff: the finding, the
stages' conclusions and each verification step with its status. Everything in it came from the
target or its tools, so it is scrubbed of secrets (:func:`autocoder.redaction.redact_text`)
like every record autocoder writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from autocoder.errors import PublishRefused
from autocoder.redaction import redact_text

MAX_DETAIL = 300  # characters of one verification step's detail in the body
MAX_TITLE = 100
PUBLISHED_STATUSES = ("verified",)  # and "checked" with AUTOCODER_PUBLISH_CHECKED=1


@dataclass(frozen=True)
class Publishable:
    """One patch as the implementation worker has it, with its pull request's title and body.

    ``new_texts`` maps each changed file to its whole new text; a file the diff deletes is
    named in ``deleted`` (a Hub commit sends whole files, not a diff)."""

    patch_id: str
    item_id: str
    base_commit: str | None
    diff: str
    files: tuple[str, ...]
    new_texts: Mapping[str, str]
    status: str
    title: str
    body: str
    deleted: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Published:
    """What was published: where (a branch or a Hub PR revision), its URL and its commit."""

    kind: Literal["github", "hub"]
    branch: str  # "autocoder/<item-id>", or the Hub's "refs/pr/N"
    url: str  # the pull request
    commit: str  # the commit the pull request shows


def ensure_publishable(patch: Publishable, publish_checked: bool) -> None:
    """Refuse a patch whose label does not allow publishing: only ``verified`` ones are, and
    ``checked`` ones (tests not allowed to run) only when the user opted in."""
    if patch.status in PUBLISHED_STATUSES:
        return
    if patch.status == "checked":
        if publish_checked:
            return
        raise PublishRefused(
            f"not published: patch {patch.patch_id} is 'checked' (its tests were not allowed to "
            "run); set AUTOCODER_PUBLISH_CHECKED=1 to publish checked patches too"
        )
    raise PublishRefused(
        f"not published: patch {patch.patch_id} is {patch.status!r}; only verified patches "
        "are published"
    )


def pr_title(finding: Mapping[str, Any] | None, item_id: str) -> str:
    """``autocoder: fix RULE in FILE`` from the finding, else the item's id; one short line."""
    if finding:
        text = f"autocoder: fix {finding.get('rule', '?')} in {finding.get('file', '?')}"
    else:
        text = f"autocoder: {item_id}"
    text = _clean(" ".join(text.split()))
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 3] + "..."


def pr_body(
    *,
    patch_id: str,
    base_commit: str | None,
    finding: Mapping[str, Any] | None,
    conclusions: Sequence[Mapping[str, str]],
    evidence: Mapping[str, Any],
) -> str:
    """The markdown body: finding, stages' conclusions, verification, patch id and base."""
    parts = [
        "This draft pull request was opened by autocoder. Review the change before merging.",
        _finding_section(finding),
        _conclusions_section(conclusions),
        _verification_section(evidence),
        f"Patch `{patch_id}` at base commit `{base_commit or 'unknown'}`.",
    ]
    return _clean("\n\n".join(part for part in parts if part)) + "\n"


def _finding_section(finding: Mapping[str, Any] | None) -> str:
    if not finding:
        return ""
    where = f"{finding.get('file', '?')}:{finding.get('line', '?')}"
    return (
        "### Finding\n\n"
        f"- tool: `{finding.get('tool', '?')}`, rule: `{finding.get('rule', '?')}`, "
        f"severity: **{finding.get('severity', '?')}**\n"
        f"- where: `{where}`\n"
        f"- message: {_inline(str(finding.get('message', '')))}"
    )


def _conclusions_section(conclusions: Sequence[Mapping[str, str]]) -> str:
    if not conclusions:
        return ""
    lines = [
        f"{n}. **{_inline(c.get('stage', '?'))}**: {_inline(c.get('conclusion', ''))}"
        for n, c in enumerate(conclusions, 1)
    ]
    return "### Stages\n\n" + "\n".join(lines)


def _verification_section(evidence: Mapping[str, Any]) -> str:
    label = evidence.get("status", "unknown")
    lines = [f"### Verification: **{label}**", ""]
    lines += ["| step | status | detail |", "| --- | --- | --- |"]
    for step in evidence.get("steps") or []:
        detail = _inline(str(step.get("detail", "")))
        if len(detail) > MAX_DETAIL:
            detail = detail[:MAX_DETAIL] + "..."
        cell = detail.replace("|", "\\|")
        lines.append(f"| {step.get('name', '?')} | {step.get('status', '?')} | {cell} |")
    return "\n".join(lines)


def _inline(text: str) -> str:
    """One line of markdown: newlines folded, so a tool's output cannot open a heading."""
    return " ".join(text.split())


def _clean(text: str) -> str:
    return redact_text(text)[0]
