"""The implementation worker as the dashboard knows it: its dataset, before it has an app.

``load`` is None until the worker lands: the dashboard shows it as "not deployed" when its
dataset does not exist, and the CLI does not offer it.
"""

from __future__ import annotations

from autocoder.engine.spec import WorkerInfo
from autocoder.schema import RECORDS

IMPLEMENTATION = WorkerInfo(
    name="implementation",
    title="Implementation Worker",
    dataset="autocoder-implementation-results",
    description="One record per iteration of the autocoder implementation worker.",
    default_interval_s=120.0,
    space="autocoder-implementation",
    folder="3_implementation_worker",
    configs=(RECORDS,),
)
