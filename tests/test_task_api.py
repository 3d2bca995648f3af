"""The implementation worker's task API, served for real: who may submit, read and list tasks
(through gradio_client and plain HTTP), what a bad task is told, and that a submitted task is in
the dataset at once and survives a restart, a running one going back to pending."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app
from autocoder.engine.logbuffer import install_logging
from autocoder.schema import utc_timestamp
from autocoder.settings import Settings
from autocoder.store.dataset import LocalDataset
from autocoder.store.tasklog import latest_tasks, requeue_running, write_task_rows
from autocoder.workers.catalog import worker_spec
from autocoder.workers.implementation.tasks import new_task

from appkit import serving
from hubserver import TEST_TOKEN, TEST_USER, HubServer

ADMIN = "adm-" + "q4" * 10  # built at run time: no token-looking literal in the source
TOKENS = {"anonymous": "", "wrong": "adm-" + "w8" * 10, "right": ADMIN}
FEATURE = {"type": "feature", "priority": 2, "description": "add a --verbose flag"}
DATASET = "autocoder-implementation-results"


@dataclass
class Served:
    url: str
    token_set: bool
    on_space: bool
    client: Client
    data: Path

    def may(self, caller: str) -> bool:
        return caller == "right" if self.token_set else not self.on_space


@pytest.fixture(
    scope="module",
    params=[(False, False), (True, False), (True, True), (False, True)],
    ids=["no-token-local", "token-local", "token-space", "no-token-space"],
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    token_set, on_space = request.param
    tmp = tmp_path_factory.mktemp("tasks")
    target = tmp / "target"
    (target / "pkg").mkdir(parents=True)
    (target / "pkg" / "core.py").write_text("def f():\n    return 1\n")
    settings = Settings(target=str(target), data_dir=tmp / "data", interval_s=3600,  # type: ignore[call-arg]
                        admin_token=ADMIN if token_set else None,
                        space_id="alice/autocoder-implementation" if on_space else None,
                        network=False)  # fmt: skip
    service = WorkerService(worker_spec("implementation"), settings)
    with serving(build_app(service, install_logging(settings.secrets()))) as url:
        deadline = time.time() + 60
        while service.store.last_iteration() < 1 and time.time() < deadline:
            time.sleep(0.05)  # the first Deep Understanding has run: tasks now wait an hour
        yield Served(url, token_set, on_space, Client(url, verbose=False), tmp / "data" / DATASET)


def _gradio(app: Served, caller: str, endpoint: str, *args: Any) -> tuple[bool, Any]:
    try:
        return True, app.client.predict(TOKENS[caller], *args, api_name=endpoint)
    except Exception as e:  # gradio_client raises AppError for gr.Error
        return False, str(e)


def _headers(caller: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[caller]}"} if TOKENS[caller] else {}


@pytest.mark.parametrize("caller", ["anonymous", "wrong", "right"])
def test_only_those_who_may_start_and_stop_may_use_the_task_api_over_gradio(
    served: Served, caller: str
) -> None:
    accepted, answer = _gradio(served, caller, "/submit_task", FEATURE)
    assert accepted == served.may(caller), answer
    for call in (("/tasks",), ("/task", "task-0000000000000000")):
        ok, said = _gradio(served, caller, *call)
        assert ok == served.may(caller) or (call[0] == "/task" and not ok), said
    if not accepted:
        assert "AUTOCODER_ADMIN_TOKEN" in answer or "Space owner" in answer, answer
        assert ADMIN not in answer
        return
    assert answer["status"] == "pending" and answer["source"] == "api"
    stored = latest_tasks(LocalDataset(served.data))[answer["id"]]  # written at once
    assert stored.description == "add a --verbose flag"
    ok, one = _gradio(served, caller, "/task", answer["id"])
    assert ok and one["id"] == answer["id"]


@pytest.mark.parametrize("caller", ["anonymous", "wrong", "right"])
def test_only_those_who_may_start_and_stop_may_use_the_task_api_over_http(
    served: Served, caller: str
) -> None:
    posted = httpx.post(f"{served.url}/api/tasks", json=FEATURE, headers=_headers(caller))
    listed = httpx.get(f"{served.url}/api/tasks", headers=_headers(caller))
    if not served.may(caller):
        assert (posted.status_code, listed.status_code) == (401, 401), posted.text
        assert ADMIN not in posted.text
        return
    assert posted.status_code == 201, posted.text
    task = posted.json()
    assert task["id"] in [t["id"] for t in listed.json()]
    got = httpx.get(f"{served.url}/api/tasks/{task['id']}", headers=_headers(caller))
    assert got.json()["description"] == "add a --verbose flag"
    missing = httpx.get(f"{served.url}/api/tasks/task-0000000000000000", headers=_headers(caller))
    assert missing.status_code == 404 and "GET /api/tasks lists them" in missing.text


def test_a_bad_task_is_refused_with_the_reason_and_nothing_is_written(served: Served) -> None:
    if not served.may("right"):
        pytest.skip("on a Space without a token only the owner's login is accepted")
    before = len(latest_tasks(LocalDataset(served.data)))
    bad = {"type": "bug_fix", "priority": 1, "file": "../../etc/passwd", "issue": "x"}
    posted = httpx.post(f"{served.url}/api/tasks", json=bad, headers=_headers("right"))
    assert posted.status_code == 422
    assert "'../../etc/passwd' leaves the repository" in posted.json()["detail"]
    assert len(latest_tasks(LocalDataset(served.data))) == before


def test_a_running_task_goes_back_to_pending_when_the_worker_restarts(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    settings = Settings(target=str(tmp_path / "target"), data_dir=tmp_path / "data")  # type: ignore[call-arg]
    service = WorkerService(worker_spec("implementation"), settings)
    root = service.store.root
    task = new_task(FEATURE, tmp_path / "target", "api")
    write_task_rows(root, [task.model_copy(update={"status": "running"})])
    asyncio.run(service.open())  # what a restarted worker does before its first iteration
    assert latest_tasks(LocalDataset(root))[task.id].status == "pending"
    assert requeue_running(root, utc_timestamp()) == []  # nothing running any more
    service.cache.close()


async def test_tasks_come_back_with_a_restart_on_an_empty_disk(
    hub: HubServer, tmp_path: Path
) -> None:
    """A Space's disk is not persistent: what was pushed is all there is after a restart."""
    (tmp_path / "target").mkdir()

    def service(disk: str) -> WorkerService:
        settings = Settings(target=str(tmp_path / "target"), data_dir=tmp_path / disk,  # type: ignore[call-arg]
                            interval_s=3600, hf_token=TEST_TOKEN, hf_username=TEST_USER,
                            push_every_s=3600)  # fmt: skip
        return WorkerService(worker_spec("implementation"), settings)

    first = service("disk1")
    await first.open()
    task = new_task(FEATURE, tmp_path / "target", "api")
    write_task_rows(first.store.root, [task.model_copy(update={"status": "running"})])
    await first.close()  # the final push
    second = service("disk2")
    await second.open()
    restored = latest_tasks(LocalDataset(second.store.root))
    assert restored[task.id].status == "pending"  # back, and requeued: it was running
    await second.close()
