"""The workers autocoder ships, by CLI name. The registry refuses nothing twice: names are keys."""

from __future__ import annotations

from collections.abc import Callable

from autocoder.engine.spec import WorkerSpec
from autocoder.errors import ConfigError
from autocoder.workers.analysis.spec import analysis_spec
from autocoder.workers.test_planning.spec import test_planning_spec

WORKERS: dict[str, Callable[[], WorkerSpec]] = {
    "analysis": analysis_spec,
    "test-planning": test_planning_spec,
}


def worker_spec(name: str) -> WorkerSpec:
    try:
        return WORKERS[name]()
    except KeyError:
        raise ConfigError(
            f"there is no worker named {name!r}; choose one of: {', '.join(WORKERS)}"
        ) from None
