"""Big Picture Review: a synthesis of the other perspectives, read from this worker's dataset.

The newest successful record of every other perspective and its spec rows (the ``specs`` config)
give the top risks (subjects ranked by failing tests, best priority and how many perspectives
name them), the five tests to write first (the highest-priority specs, one per subject, copied
under this perspective with where they came from), and the trend since the previous review (specs
per perspective, new and retired spec ids), from the state this perspective saved last time.
Specs whose subject no longer exists in the target are left out.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from typing import Any, ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import SPECS, TestSpec
from autocoder.store.reader import latest_per_perspective, latest_record, rows_of_iteration
from autocoder.workers.test_planning.inventory import build_inventory
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import spec_id

FIRST, TOP_RISKS = 5, 10
FAILING = ("failed", "error")


def current_rows(
    ctx: RunContext, own: str
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The newest ok record of each other perspective, and the spec rows of those iterations
    whose subject still exists (a function or class in the inventory, or a non-Python file)."""
    if ctx.reader is None:
        return {}, []
    records = {n: r for n, r in latest_per_perspective(ctx.reader).items() if n != own}
    inventory, files = build_inventory(ctx), set(ctx.sources.files)
    rows = [row for record in records.values()
            for row in rows_of_iteration(ctx.reader, SPECS, record["iteration"])]  # fmt: skip
    alive = [r for r in rows if r["subject"] in inventory.by_id
             or (r["file"] in files and not r["file"].endswith(".py"))]  # fmt: skip
    return records, alive


def top_risks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Subjects ranked: failing tests first, then best priority, then how many perspectives."""
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_subject[row["subject"]].append(row)
    risks = []
    for subject, found in by_subject.items():
        best = min(found, key=lambda r: (r["priority"], r["status"] not in FAILING))
        risks.append({
            "subject": subject, "priority": best["priority"],
            "perspectives": sorted({r["perspective"] for r in found}),
            "failing": sum(1 for r in found if r["status"] in FAILING),
            "evidence": f"{best['file']}:{best['line']}", "specs": len(found),
        })  # fmt: skip
    return sorted(risks, key=lambda r: (-min(r["failing"], 1), r["priority"],
                                        -len(r["perspectives"]), r["subject"]))  # fmt: skip


def write_first(rows: list[dict[str, Any]], risks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The highest-priority specs, one per subject: failing ones and widely named subjects first."""
    named = {r["subject"]: len(r["perspectives"]) for r in risks}
    ordered = sorted(rows, key=lambda r: (r["priority"], r["status"] not in FAILING,
                                          -named[r["subject"]], r["subject"], r["id"]))  # fmt: skip
    chosen: dict[str, dict[str, Any]] = {}
    for row in ordered:
        if row["subject"] not in chosen and _parses(row["test_code"]):
            chosen[row["subject"]] = row
        if len(chosen) == FIRST:
            break
    return list(chosen.values())


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def copy_spec(row: dict[str, Any], rank: int, named_by: int) -> TestSpec:
    """One of the tests to write first, under this perspective, saying where it came from."""
    failing = ", and its test fails today (possible bug)" if row["status"] in FAILING else ""
    return TestSpec(
        id=spec_id(BigPictureReview.id, row["subject"], row["kind"], row["id"]),
        perspective=BigPictureReview.name, subject=row["subject"], file=row["file"],
        line=row["line"], kind=row["kind"],
        rationale=(f"Write first #{rank}: from {row['perspective']} (spec {row['id']}, priority "
                   f"{row['priority']}{failing}); {named_by} perspectives name {row['subject']}. "
                   f"{row['rationale']}"),
        inputs=row["inputs"], expected=row["expected"], mocks=row["mocks"],
        priority=row["priority"], test_code=row["test_code"],
    )  # fmt: skip


def trend(previous: dict[str, Any], counts: dict[str, int], ids: set[str]) -> dict[str, Any]:
    """Changes since the previous review: specs per perspective, new and retired spec ids."""
    if "counts" not in previous:
        return {"first_review": True}
    before, old_ids = previous["counts"], set(previous.get("ids", []))
    changed = {name: {"before": before.get(name, 0), "now": counts.get(name, 0)}
               for name in sorted(set(before) | set(counts))
               if before.get(name, 0) != counts.get(name, 0)}  # fmt: skip
    return {"first_review": False, "new_specs": len(ids - old_ids),
            "retired_specs": len(old_ids - ids), "by_perspective": changed,
            "failing_before": previous.get("failing", 0)}  # fmt: skip


class BigPictureReview:
    id: ClassVar[str] = "big_picture"
    name: ClassVar[str] = "Big Picture Review"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        records, rows = current_rows(ctx, self.name)
        if not records:
            return finish(ctx, [], "No dataset yet: none of the other perspectives has "
                          "completed a run, so there is nothing to review.",
                          state=ctx.previous_state)  # fmt: skip
        risks = top_risks(rows)
        named = {r["subject"]: len(r["perspectives"]) for r in risks}
        first = write_first(rows, risks)
        specs = [copy_spec(row, n, named[row["subject"]]) for n, row in enumerate(first, 1)]
        counts = {name: sum(1 for r in rows if r["perspective"] == name) for name in records}
        ids = {r["id"] for r in rows}
        failing = sum(1 for r in rows if r["status"] in FAILING)
        change = trend(ctx.previous_state, counts, ids)
        latest = latest_record(ctx.reader) if ctx.reader else None
        details = {
            "top_risks": risks[:TOP_RISKS],
            "write_first": [
                f"{r['subject']} ({r['kind']}, from {r['perspective']})" for r in first
            ],
            "trend": change,
            "reviewed": {name: r["iteration"] for name, r in sorted(records.items())},
            "cumulative_insights": (latest or {}).get("cumulative_insights", {}),
        }
        metrics = {"perspectives_reviewed": len(records), "specs_reviewed": len(rows),
                   "subjects": len(risks), "failing_specs": failing}  # fmt: skip
        state = {"counts": counts, "ids": sorted(ids), "failing": failing}
        summary = _summary(metrics, risks, first, change)
        return finish(ctx, specs, summary, metrics, details, state=state)


def _summary(metrics: dict[str, Any], risks: list[dict[str, Any]], first: list[dict[str, Any]],
             change: dict[str, Any]) -> str:  # fmt: skip
    top = ", ".join(
        f"{r['subject']} (priority {r['priority']}, {len(r['perspectives'])} perspectives"
        + (", failing)" if r["failing"] else ")")
        for r in risks[:3]
    )
    since = ("This is the first review." if change["first_review"] else
             f"Since the previous review: {change['new_specs']} new and "
             f"{change['retired_specs']} retired specs, {len(change['by_perspective'])} "
             "perspectives changed their count.")  # fmt: skip
    return (
        f"Reviewed {metrics['perspectives_reviewed']} perspectives: {metrics['specs_reviewed']} "
        f"specs on {metrics['subjects']} subjects, {metrics['failing_specs']} failing today. "
        f"Top risks: {top or 'none'}. Write first: "
        f"{', '.join(r['subject'] for r in first) or 'nothing'}. {since}"
    )
