"""Proof of access: on a Space, every control of every worker refuses anonymous callers and wrong
tokens, through gradio_client and raw HTTP; the right token works only when one is configured.

The full matrix of issue 15 (who x control x channel), for the three runnable workers served for
real with ``SPACE_ID`` set, with and without ``AUTOCODER_ADMIN_TOKEN``. A Space without a token
leaves the controls to the owner's Hugging Face login (:mod:`autocoder.apps.controls`), which
none of these callers has: refused to all of them. A refused call must also leave the worker and
its task log as they were. tests/test_controls.py covers the rules off a Space and every raw
Gradio route; tests/test_task_api.py reading and listing tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app
from autocoder.engine.logbuffer import install_logging
from autocoder.schema import TASKS
from autocoder.settings import Settings
from autocoder.store.tasklog import latest_tasks
from autocoder.workers.catalog import worker_names, worker_spec

from appkit import serving
from proofkit import proof_row

ADMIN = "adm-" + "p5" * 12  # built at run time: no token-looking literal in the source
TOKENS = {"anonymous": "", "wrong": "adm-" + "x9" * 12, "right": ADMIN}
CALLERS = list(TOKENS)
TASK = {"type": "feature", "priority": 3, "description": "add a --quiet flag"}
CHANNELS = ["gradio_client", "raw HTTP"]


@dataclass
class Space:
    """One worker app served as on a Space (``SPACE_ID`` set)."""

    worker: str
    url: str
    service: WorkerService
    token_set: bool
    client: Client

    @property
    def takes_tasks(self) -> bool:
        return TASKS in self.service.spec.configs

    def may(self, caller: str) -> bool:
        return self.token_set and caller == "right"

    def state(self) -> str:
        return str(self.service.status()["state"])

    def set_running(self, running: bool) -> None:
        assert self.service.worker is not None
        self.service.worker.running = running

    def task_count(self) -> int:
        return len(latest_tasks(self.service.store.reader))


MATRIX = [(w, t) for w in worker_names() for t in (False, True)]


@pytest.fixture(
    scope="module",
    params=MATRIX,
    ids=[f"{w}-{'token' if t else 'no-token'}" for w, t in MATRIX],
)
def space(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Space]:
    worker, token_set = request.param
    tmp = tmp_path_factory.mktemp("access")
    (tmp / "target" / "pkg").mkdir(parents=True)
    (tmp / "target" / "pkg" / "core.py").write_text("def f():\n    return 1\n")
    settings = Settings(
        target=str(tmp / "target"), data_dir=tmp / "data", interval_s=3600, network=False,
        admin_token=ADMIN if token_set else None, space_id=f"alice/autocoder-{worker}",
    )  # fmt: skip
    service = WorkerService(worker_spec(worker), settings)
    # Built stopped, before the app serves it: no iteration competes with the calls for the
    # CPU; only an accepted start runs one (the loop is the app's, as on a Space).
    asyncio.run(service.open())
    assert service.worker is not None
    service.worker.running = False
    with serving(build_app(service, install_logging(settings.secrets()))) as url:
        yield Space(worker, url, service, token_set, Client(url, verbose=False))


# -- channels: each call returns (accepted, what the caller was told) -------------------------


def _gradio_client(space: Space, caller: str, endpoint: str, *args: Any) -> tuple[bool, str]:
    try:
        return True, str(space.client.predict(TOKENS[caller], *args, api_name=f"/{endpoint}"))
    except Exception as e:  # gradio_client raises AppError for gr.Error
        return False, str(e)


def _gradio_http(space: Space, caller: str, endpoint: str, *args: Any) -> tuple[bool, str]:
    """Gradio's own HTTP API (what curl uses): POST the call, then read its event stream."""
    base = f"{space.url}/gradio_api/call/{endpoint}"
    posted = httpx.post(base, json={"data": [TOKENS[caller], *args]}, timeout=30)
    event_id = posted.raise_for_status().json()["event_id"]
    event = ""
    with httpx.stream("GET", f"{base}/{event_id}", timeout=30) as answer:
        for line in answer.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event == "complete", line.removeprefix("data:").strip()
    raise AssertionError(f"the event stream of /{endpoint} ended without an outcome")


def _task_http(space: Space, caller: str) -> tuple[bool, str]:
    """The task API's plain route, ``POST /api/tasks`` with ``Authorization: Bearer``."""
    headers = {"Authorization": f"Bearer {TOKENS[caller]}"} if TOKENS[caller] else {}
    posted = httpx.post(f"{space.url}/api/tasks", json=TASK, headers=headers, timeout=30)
    return posted.status_code == 201, f"HTTP {posted.status_code} {posted.text}"


Call = Callable[[Space, str, str], tuple[bool, str]]


def _controls(space: Space, channel: str) -> dict[str, Call]:
    """Each control of the worker on ``channel``: start, stop and, for a worker that takes
    tasks, submit task (over raw HTTP twice: Gradio's API and the task API's own route)."""
    gradio = _gradio_client if channel == "gradio_client" else _gradio_http
    calls: dict[str, Call] = {
        "stop": lambda s, who, _e: gradio(s, who, "stop"),
        "start": lambda s, who, _e: gradio(s, who, "start"),
    }
    if space.takes_tasks:
        calls["submit task"] = lambda s, who, _e: gradio(s, who, "submit_task", TASK)
        if channel == "raw HTTP":
            calls["POST /api/tasks"] = lambda s, who, _e: _task_http(s, who)
    return calls


def _prepare(space: Space, control: str) -> None:
    """Put the worker where the control would change it: running before stop, stopped before
    start, so a refused call that acted anyway shows."""
    space.set_running(control != "start")


def _unchanged(space: Space, control: str, tasks_before: int) -> bool:
    if control == "stop":
        return space.state() == "running"
    if control == "start":
        return space.state() == "stopped"
    return space.task_count() == tasks_before


def _check(space: Space, caller: str, control: str, call: Call) -> str:
    _prepare(space, control)
    tasks_before = space.task_count() if space.takes_tasks else 0
    accepted, told = call(space, caller, control)
    may = space.may(caller)
    assert accepted == may, f"{caller} {control}: {told}"
    assert _unchanged(space, control, tasks_before) is not may, f"{control} by {caller}: {told}"
    assert ADMIN not in told
    if not may:
        assert "AUTOCODER_ADMIN_TOKEN" in told or "Space owner" in told, told
    space.set_running(True)
    return "works" if accepted else "refused"


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("caller", CALLERS)
def test_on_a_space_only_the_configured_token_may_use_the_controls(
    space: Space, caller: str, channel: str, record_property: Callable[[str, object], None]
) -> None:
    results = {
        control: _check(space, caller, control, call)
        for control, call in _controls(space, channel).items()
    }
    expected = "works" if space.may(caller) else "refused"
    assert set(results.values()) == {expected}
    configured = "token set" if space.token_set else "no token"
    proof_row(
        record_property, "access",
        f"{space.worker} on a Space, {configured}: {caller} via {channel}",
        f"{expected}: {', '.join(results)}",
        f"{len(results)} controls",
    )  # fmt: skip


def test_the_matrix_covers_every_worker_and_the_task_api() -> None:
    """The matrix above is the whole promise only if it reaches each runnable worker and the one
    that takes tasks: a worker added to the catalog joins it, a lost task API fails here."""
    assert {"analysis", "test-planning", "implementation"} <= set(worker_names())
    taking = [w for w in worker_names() if TASKS in worker_spec(w).configs]
    assert taking == ["implementation"]


def test_a_space_answers_the_task_route_only_on_the_worker_that_takes_tasks(space: Space) -> None:
    answer = httpx.post(
        f"{space.url}/api/tasks", json=TASK, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    if space.takes_tasks:
        assert answer.status_code == (201 if space.token_set else 401), answer.text
    else:  # no route that could change state: Gradio's catch-all answers, nothing is written
        assert answer.status_code in (404, 405), answer.text
        assert not (Path(space.service.store.root) / TASKS.folder).exists()
