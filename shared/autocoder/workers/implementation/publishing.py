"""The last step of a change that passed its checks: hand it to the publisher (a branch and a
draft pull request, or a Hub pull request; see :mod:`autocoder.publish`) when the user turned
publishing on, and say in the patch row what was published, or why not."""

from __future__ import annotations

from typing import Any

from autocoder.engine.perspective import RunContext
from autocoder.errors import PublishError
from autocoder.publish import Publishable, Published, pr_body, pr_title
from autocoder.workers.implementation.patching import Patch
from autocoder.workers.implementation.verify import Verification
from autocoder.workers.implementation.workitem import WorkItem

PUBLISHABLE = ("verified", "checked")  # the publisher refuses checked ones without the opt-in


def published_fields(
    ctx: RunContext, item: WorkItem, patch: Patch, checked: Verification,
    conclusions: list[dict[str, str]],
) -> dict[str, str]:  # fmt: skip
    """The patch row's ``published_*`` fields (and ``publish_detail``); all "" when publishing
    is off or the patch did not pass its checks."""
    if ctx.publish is None or checked.status not in PUBLISHABLE:
        return {}
    finding = None if item.kind == "spec" else item.model_dump(include={
        "tool", "rule", "severity", "file", "line", "message"})  # fmt: skip
    publishable = Publishable(
        patch_id=patch.id, item_id=item.id, base_commit=patch.base_commit, diff=patch.diff,
        files=patch.files, new_texts=patch.new_texts, status=checked.status,
        title=pr_title(finding, item.id),
        body=pr_body(patch_id=patch.id, base_commit=patch.base_commit, finding=finding,
                     conclusions=conclusions, evidence=checked.as_evidence()),
        deleted=tuple(f for f, text in patch.new_texts.items()
                      if not _exists_after(patch, f, text)),
    )  # fmt: skip
    try:
        done: Published = ctx.publish(publishable, ctx.root)
    except PublishError as e:
        return {"publish_detail": str(e)}
    except Exception as e:  # a disk or git failure outside the publisher's own errors
        return {"publish_detail": f"not published: {type(e).__name__}: {e}"}
    return {"published_kind": done.kind, "published_branch": done.branch,
            "published_url": done.url, "published_commit": done.commit}  # fmt: skip


def _exists_after(patch: Patch, file: str, text: str) -> bool:
    """Whether the diff leaves ``file`` in the tree (a removed file has "" as its new text and a
    ``deleted file mode`` line)."""
    return bool(text) or f"diff --git a/{file} b/{file}\ndeleted file mode" not in patch.diff


def task_fields(published: dict[str, Any]) -> dict[str, str]:
    """What the served task records of it: the branch and the pull request."""
    if not published.get("published_url"):
        return {}
    return {"branch_name": published["published_branch"],
            "published_url": published["published_url"]}  # fmt: skip
