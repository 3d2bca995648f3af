"""What the test planning worker writes: ``finish`` for perspectives, the record, the spec rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel

from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.schema import SPECS, Record, SpecRow, TestSpec
from autocoder.workers.test_planning.behaviour import structural_problem
from autocoder.workers.test_planning.codegen import compile_error, name_problem, one_line
from autocoder.workers.test_planning.reach import safe_to_run
from autocoder.workers.test_planning.verify import run_generated_tests, without_broken

TOP_SPECS_IN_RECORD = 10
RECORD_SPEC_FIELDS = {"id", "subject", "kind", "priority", "rationale", "file", "line", "status",
                      "status_detail"}  # fmt: skip
EXAMPLES = 10  # of the specs dropped, the files without subjects: how many the record names


def compiling(specs: list[TestSpec]) -> tuple[list[TestSpec], dict[str, str]]:
    """The specs whose test code compiles, and spec id -> why for the others (never kept)."""
    kept: list[TestSpec] = []
    dropped: dict[str, str] = {}
    for spec in specs:
        error = compile_error(spec.test_code, f"test_{spec.id}.py")
        if error is None:
            kept.append(spec)
        else:
            dropped[spec.id] = f"{one_line(spec.subject)}: {error}"
    return kept, dropped


def behavioural(specs: list[TestSpec]) -> tuple[list[TestSpec], dict[str, str]]:
    """The specs whose tests assert behaviour, and spec id -> why for the others (never kept:
    a test of the code's shape passes on broken code too)."""
    kept: list[TestSpec] = []
    dropped: dict[str, str] = {}
    for spec in specs:
        problem = structural_problem(spec.test_code)
        if problem is None:
            kept.append(spec)
        else:
            dropped[spec.id] = f"{one_line(spec.subject)}: {problem}"
    return kept, dropped


def invalid_subject_files(ctx: RunContext) -> dict[str, str]:
    """Code files whose module name is no dotted Python name (a folder named with a newline,
    a space or a dash, a keyword): they give no subject. File -> why, both escaped."""
    found: dict[str, str] = {}
    for file in (f for f in ctx.sources.python if not is_test_file(f)):
        module = ctx.sources.module(file)
        if (problem := name_problem(module)) is not None:
            found[one_line(file)] = f"module '{one_line(module)}': {problem}"
    return found


def _listing(found: dict[str, str]) -> str:
    shown = "; ".join(f"'{key}' ({why})" for key, why in list(found.items())[:EXAMPLES])
    return shown + (f"; and {len(found) - EXAMPLES} more" if len(found) > EXAMPLES else "")


def _safety(
    ctx: RunContext, dropped: dict[str, str], structural: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Metrics and skipped entries for specs dropped as not compiling or asserting no behaviour,
    and for invalid subjects."""
    metrics: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    if dropped:
        metrics["uncompilable_specs"] = len(dropped)
        skipped["uncompilable specs"] = f"{len(dropped)} dropped, not kept: {_listing(dropped)}"
    if structural:
        metrics["structural_specs"] = len(structural)
        skipped["structural specs"] = (
            f"{len(structural)} dropped, their tests assert no behaviour: {_listing(structural)}"
        )
    if invalid := invalid_subject_files(ctx):
        examples = list(invalid)[:EXAMPLES]
        metrics["invalid_subject_names"] = {"files": len(invalid), "examples": examples}
        skipped["subjects"] = (
            f"{len(invalid)} files give no subject, their module name is not a dotted Python "
            f"name: {_listing(invalid)}"
        )
    return metrics, skipped


def finish(
    ctx: RunContext,
    specs: list[TestSpec],
    summary: str,
    metrics: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
    skipped: dict[str, str] | None = None,
    *,
    api_contract: bool = False,
) -> PerspectiveResult:
    """The result every test planning perspective returns: specs deduplicated by id, sorted by
    priority, those whose code does not compile or asserts no behaviour dropped (and counted),
    run against the target when ``AUTOCODER_RUN_TARGET_TESTS=1`` (those that broke on their own
    inputs dropped and counted too). Files that give no subject are
    reported here too. ``api_contract``: the specs pin the public API (names, parameters), so
    a signature check is the behaviour they test and is kept."""
    unique = sorted({s.id: s for s in specs}.values(), key=lambda s: (s.priority, s.subject, s.id))
    unique, dropped = compiling(unique)
    unique, structural = (unique, {}) if api_contract else behavioural(unique)
    unique, reaching = safe_to_run(ctx, unique)
    safety, unsafe = _safety(ctx, dropped, structural)
    skipped = {**(skipped or {}), **unsafe}
    if reaching:
        safety["unsafe_specs"] = len(reaching)
        skipped["unsafe specs"] = (
            f"{len(reaching)} dropped, they reach a process, a package manager, a deletion or "
            f"the network unfaked: {_listing(reaching)}"
        )
    if ctx.options.run_target_tests:
        cache_dir = ctx.cache.path.parent if ctx.cache.path else None
        unique, broken = without_broken(
            run_generated_tests(ctx.root, unique, ctx.options.tool_timeout_s, cache_dir=cache_dir)
        )
        if broken:  # failed on its own inputs: a bad test, never reported as a possible bug
            broken = {key: one_line(why)[:300] for key, why in broken.items()}
            safety["broken_specs"] = len(broken)
            skipped["broken specs"] = f"{len(broken)} dropped, not kept: {_listing(broken)}"
    else:
        skipped["running generated tests"] = "skipped: AUTOCODER_RUN_TARGET_TESTS is not 1"
    counts = {
        "specs": len(unique),
        "by_kind": dict(Counter(s.kind for s in unique).most_common()),
        "by_priority": {str(p): n for p, n in sorted(Counter(s.priority for s in unique).items())},
        "by_status": dict(Counter(s.status for s in unique).most_common()),
    }
    return PerspectiveResult(
        summary=summary,
        metrics={**counts, **(metrics or {}), **safety},
        details=details or {},
        skipped=skipped,
        state=state or {},
        items=list(unique),
    )


def record_analysis(result: PerspectiveResult) -> dict[str, Any]:
    """The record's ``analysis``: summary, metrics and the highest-priority specs (no code)."""
    specs = [s for s in result.items if isinstance(s, TestSpec)]
    return {
        "summary": result.summary,
        "specs_total": len(specs),
        "top_specs": [
            s.model_dump(include=RECORD_SPEC_FIELDS) for s in specs[:TOP_SPECS_IN_RECORD]
        ],
        "metrics": result.metrics,
        "skipped": result.skipped,
        "tools": result.tools,
        **({"details": result.details} if result.details else {}),
    }


def spec_rows(record: Record, result: PerspectiveResult) -> dict[str, list[BaseModel]]:
    meta = record.row_meta()
    rows: list[BaseModel] = [
        SpecRow.model_validate({**s.model_dump(), **meta})
        for s in result.items
        if isinstance(s, TestSpec)
    ]
    return {SPECS.name: rows}
