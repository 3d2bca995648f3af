"""Every worker autocoder knows, in one place: the CLI, the dashboard, the worker page, ``up``
and ``deploy`` take what they need from here, and nothing else names a worker.

Adding a worker is a package under ``workers/`` with an ``info.py`` (its :class:`WorkerInfo`) and
a ``spec.py`` (its perspectives), a Space folder, and one line in :data:`CATALOG`.
"""

from __future__ import annotations

from collections.abc import Callable

from autocoder.engine.spec import WorkerInfo, WorkerSpec
from autocoder.errors import ConfigError
from autocoder.schema import DatasetConfig
from autocoder.workers.analysis.info import ANALYSIS
from autocoder.workers.implementation.info import IMPLEMENTATION
from autocoder.workers.test_planning.info import TEST_PLANNING

CATALOG: list[WorkerInfo] = [ANALYSIS, TEST_PLANNING, IMPLEMENTATION]


def workers() -> list[WorkerInfo]:
    """Every known worker, in catalog order (the dashboard's rows)."""
    return list(CATALOG)


def runnable() -> list[WorkerInfo]:
    """The workers that have an app (the CLI's choices, ``up``)."""
    return [info for info in CATALOG if info.runnable]


def worker_names() -> list[str]:
    return [info.name for info in runnable()]


def worker_info(name: str) -> WorkerInfo:
    for info in CATALOG:
        if info.name == name:
            return info
    raise ConfigError(
        f"there is no worker named {name!r}; choose one of: {', '.join(worker_names())}"
    )


def worker_spec(name: str) -> WorkerSpec:
    info = worker_info(name)
    if not info.runnable:
        raise ConfigError(
            f"the {name} worker has no app in this version; choose one of: "
            f"{', '.join(worker_names())}"
        )
    return info.spec()


def producer_of(config: DatasetConfig) -> WorkerInfo:
    """The worker whose dataset holds ``config`` (``findings`` -> analysis, ``specs`` -> ...)."""
    for info in runnable():
        if config in info.configs:
            return info
    raise ConfigError(f"no worker writes the {config.name} config")


# The old registry: name -> spec factory, for callers of autocoder < 0.3.
WORKERS: dict[str, Callable[[], WorkerSpec]] = {info.name: info.spec for info in runnable()}
