"""Risk Analysis: the blast radius of the chosen change: who calls the code it touches, whether
that is public API, which tests cover it, and what kind of change it is (safe by construction or
not, a dependency declaration, a new test file).

The level is a rule, stated in the record: ``high`` for a change that is not safe by
construction to public API with callers or without any test referring to it; ``medium`` for any
other change that is not safe by construction, or a safe one to public API no test refers to;
``low`` otherwise (a safe change, a new test file). Test code is not API: a change in a test
file is judged by whether it is safe by construction alone.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.workers.implementation import context
from autocoder.workers.implementation.stages import _chain
from autocoder.workers.implementation.wording import plural


class RiskAnalysis:
    id: ClassVar[str] = "risk_analysis"
    name: ClassVar[str] = "Risk Analysis"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        progress = _chain.in_progress(ctx, self.id)
        where = progress.facts["architectural_analysis"]
        approach = progress.facts["approach_evaluation"]
        chosen = next(c for c in approach["candidates"] if c["key"] == approach["chosen"])
        module, qualname = where.get("module"), where.get("definition")
        public = (
            asdict(context.public_api(ctx.sources, module, qualname, ctx.cache))
            if module and qualname and not is_test_file(progress.item.file) else None
        )  # fmt: skip
        callers, tests = where.get("callers_total", 0), where.get("test_files", [])
        content: dict[str, Any] = {
            "change": {"fixer": chosen["fixer"], "safe": chosen["safe"], "files": chosen["files"],
                       "changed_lines": chosen["changed_lines"]},
            "callers": callers,
            "public_api": public,
            "tests_referring": tests,
            "coverage": _coverage_note(ctx),
        }  # fmt: skip
        content["level"], content["because"] = level(chosen["safe"], public, callers, tests)
        conclusion = (
            f"{content['level']} risk: {content['because']}; the change touches "
            f"{plural(len(chosen['files']), 'file')} ({plural(chosen['changed_lines'], 'line')} "
            "changed)"
        )
        return progress.result(self.id, conclusion, content, ctx=ctx)


def level(
    safe: bool, public: dict[str, Any] | None, callers: int, test_files: list[str]
) -> tuple[str, str]:
    is_public = bool(public and public.get("public"))
    if not safe and is_public and (callers or not test_files):
        reach = plural(callers, "caller") if callers else "no test referring to it"
        return "high", f"a change that is not safe by construction to public API with {reach}"
    if not safe:
        return "medium", "a change that is not safe by construction"
    if is_public and not test_files:
        return "medium", "a safe change to public API that no test refers to"
    return "low", "a change that is safe by construction" + (
        f", in code {plural(len(test_files), 'test file')} refer to" if test_files else ""
    )


def _coverage_note(ctx: RunContext) -> str:
    if ctx.options.run_target_tests:
        return "the target's tests run in the Implementation Plan's verification"
    return (
        "tests referring to the code are found statically; which lines they cover needs a run "
        "of the target's tests (AUTOCODER_RUN_TARGET_TESTS=1)"
    )
