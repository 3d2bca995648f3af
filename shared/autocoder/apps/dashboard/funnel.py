"""The traceability funnel: findings -> items taken -> patches -> verified -> published.

Each number is a count the workers already keep in their newest record's cumulative insights
(nothing is counted again here): the analysis worker's unique findings, and the implementation
worker's items taken, patches, verified patches and published patches. The stages are not
strict subsets of one another: the implementation worker also takes test specs and tasks, so
"items taken" may exceed "findings". A worker without a dataset, without a record yet, or whose
newest record has no such count (an older version) gives 0 with a note saying which; a number is
never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from autocoder.apps.dashboard.history import WorkerHistory
from autocoder.apps.dashboard.model import FunnelStage


@dataclass(frozen=True)
class Step:
    """Where one stage's number comes from: ``insight`` of worker ``worker``'s newest record."""

    key: str
    label: str
    worker: str  # a catalog name
    insight: str  # a key of its cumulative insights
    counts: str  # what the number counts, in words


STEPS = (
    Step("findings", "findings", "analysis", "unique_findings",
         "unique findings the analysis worker has recorded (every perspective and severity)"),
    Step("items_taken", "items taken", "implementation", "items_taken",
         "work items the implementation worker took, from findings, test specs and tasks"),
    Step("patches", "patches", "implementation", "patches_total", "patches it made for them"),
    Step("verified", "verified", "implementation", "patches_verified",
         "patches whose checks and the target's own tests passed"),
    Step("published", "published", "implementation", "patches_published",
         "patches published as a branch or a pull request"),
)  # fmt: skip


def _count(step: Step, history: WorkerHistory) -> int | None:
    """The step's count in the worker's newest record, None when it has none."""
    value = ((history.newest or {}).get("cumulative_insights") or {}).get(step.insight)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _note(step: Step, history: WorkerHistory | None) -> str | None:
    """Why ``step`` has no count to read (one sentence for all the worker's steps without one),
    or None when the newest record has it."""
    if history is None:
        return f"the dashboard does not read a {step.worker} worker"
    title = history.source.title
    if history.exists is None:
        return f"the {title}'s dataset could not be read"
    if not history.exists:
        return f"no dataset found for the {title} ({history.source.location})"
    if history.newest is None:
        return f"the {title} has recorded no iteration yet"
    if _count(step, history) is not None:
        return None
    missing = [s.insight for s in STEPS if s.worker == step.worker and _count(s, history) is None]
    counts = "count" if len(missing) == 1 else "counts"
    return f"the {title}'s newest record has no {', '.join(missing)} {counts}"


def stage(step: Step, history: WorkerHistory | None) -> FunnelStage:
    count = _count(step, history) if history is not None else None
    if count is None:
        return FunnelStage(step.key, step.label, 0, step.counts, _note(step, history))
    return FunnelStage(step.key, step.label, count, step.counts)


def funnel_stages(histories: Iterable[WorkerHistory]) -> list[FunnelStage]:
    """The funnel's five stages, in order, from the workers' histories."""
    by_name = {history.source.name: history for history in histories}
    return [stage(step, by_name.get(step.worker)) for step in STEPS]
