"""The combined Space: the dashboard at ``/`` and every worker at ``/{name}/``, one process, one
port. Each worker answers under its prefix exactly as on its own Space (page, gradio_client API,
``/health``, task routes, guarded controls); the root ``/health`` sums them; the dashboard pings
them on the same port; a stop pushes every worker's last records."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from autocoder.apps.combined import combined_app, combined_health
from autocoder.engine.logbuffer import install_logging
from autocoder.errors import ConfigError
from autocoder.settings import Settings
from autocoder.store.local import LocalStore
from autocoder.workers.catalog import worker_names, worker_spec

from appkit import free_port

ADMIN = "adm-" + "c9" * 10  # built at run time: no token-looking literal in the source
WRONG = "adm-" + "w4" * 10
GITHUB = "gh" + "p_" + "Q8" * 18
NAMES = worker_names()
WAIT_S = 180.0
PUBLIC_HOST = "alice-autocoder.hf.space"
STOPPED = re.compile(r"(\S+) stopped after iteration (\d+): .* (\d+) cancelled")


@dataclass
class Combined:
    """The combined Space's process, its URL and data folder, and one client per prefix."""

    proc: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log: Path
    clients: dict[str, Client]  # by prefix: "" (the dashboard) and each worker's name

    def stop(self) -> str:
        """Stop it as a Space stops it (a signal, uvicorn's graceful stop); its whole output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=90)
        return self.log.read_text()


def _poll(read: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    """``read()`` until ``done`` holds for its answer (WAIT_S at most: a start on a loaded
    machine can take long; nothing here measures time)."""
    deadline, answer = time.time() + WAIT_S, None
    while time.time() < deadline:
        answer = read()
        if done(answer):
            return answer
        time.sleep(0.1)
    raise AssertionError(f"never {what} within {WAIT_S:g} s; last answer {answer}")


def _target(folder: Path) -> Path:
    """A two-file target: every worker has something to read and an iteration stays short."""
    target = folder / "target"
    (target / "calc").mkdir(parents=True)
    (target / "tests").mkdir()
    (target / "calc" / "__init__.py").write_text("")
    (target / "calc" / "core.py").write_text(
        "def ratio(a, b):\n    try:\n        return a / b\n    except Exception:\n"
        "        return None\n"
    )
    (target / "tests" / "test_core.py").write_text(
        "from calc.core import ratio\n\n\ndef test_ratio():\n    assert ratio(4, 2) == 2\n"
    )
    return target


def _every_worker_did(url: str, iterations: int) -> dict[str, Any]:
    """The root /health once every worker has finished ``iterations`` iterations."""
    return _poll(
        lambda: httpx.get(f"{url}/health", timeout=10).json(),
        lambda h: all(w["iteration"] >= iterations for w in h["workers"].values()),
        f"{iterations} iteration(s) of every worker",
    )


def _space_env(tmp: Path, port: int) -> dict[str, str]:
    """What a combined Space gets: SPACE_ID, the admin token and GitHub token secrets (fake),
    and no AUTOCODER_WORKER_URLS (the app derives them); bound to loopback for the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOCODER_", "HF_", "SPACE"))}
    env.pop("GITHUB_TOKEN", None)
    return {
        **env, "PYTHONUNBUFFERED": "1", "GRADIO_TEMP_DIR": str(tmp / "gradio"),
        "SPACE_ID": "alice/autocoder", "AUTOCODER_HOST": "127.0.0.1", "AUTOCODER_PORT": str(port),
        "AUTOCODER_TARGET": str(_target(tmp)), "AUTOCODER_DATA_DIR": str(tmp / "data"),
        "AUTOCODER_INTERVAL_S": "2", "AUTOCODER_NETWORK": "false",
        "AUTOCODER_DASHBOARD_REFRESH_S": "0.5", "AUTOCODER_ADMIN_TOKEN": ADMIN,
        "GITHUB_TOKEN": GITHUB,
    }  # fmt: skip


@pytest.fixture(scope="module")
def combined(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Combined]:
    """``run_space("combined")`` in its own process, as a Space's ``app.py`` runs it, once every
    worker has written a record."""
    tmp, port = tmp_path_factory.mktemp("combined"), free_port()
    log = tmp / "output.log"  # a file, not a pipe: a full pipe would block the app
    code = "from autocoder.apps.launch import run_space; run_space('combined')"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], env=_space_env(tmp, port),
                                cwd=tmp, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    running = Combined(proc, url, tmp / "data", log, {})
    try:
        _poll(lambda: _answers(url) or proc.poll() is not None, bool, "the app answering")
        assert proc.poll() is None, log.read_text()
        _every_worker_did(url, 1)
        running.clients.update({n: Client(f"{url}/{n}/", verbose=False) for n in ["", *NAMES]})
        yield running
    finally:
        running.stop()
        for client in running.clients.values():
            client.close()


def test_root_health_sums_every_worker_and_each_prefix_answers_its_own(
    combined: Combined,
) -> None:
    root = httpx.get(f"{combined.url}/health").json()
    assert root["app"] == "combined" and root["status"] == "ok", root
    assert list(root["workers"]) == NAMES
    for name in NAMES:
        own = httpx.get(f"{combined.url}/{name}/health").json()
        assert own["worker"] == name and own["status"] == "ok"
        assert own["dataset"] == worker_spec(name).dataset


def test_each_worker_writes_its_own_dataset_in_the_one_data_folder(combined: Combined) -> None:
    for name in NAMES:
        spec = worker_spec(name)
        store = LocalStore(combined.data_dir / spec.dataset, spec.title, spec.description,
                           spec.configs)  # fmt: skip
        assert store.last_iteration() >= 1, name
        latest = store.latest() or {}
        assert latest.get("worker") == name and latest.get("status") in {"ok", "skipped"}, latest


def test_gradio_client_calls_each_worker_under_its_prefix(combined: Combined) -> None:
    for name in NAMES:
        client = combined.clients[name]
        status = client.predict(api_name="/status")
        assert status["worker"] == name and status["state"] == "running"
        latest = client.predict(api_name="/latest")
        assert latest and latest["worker"] == name


def test_dashboard_at_the_root_lists_every_worker_online(combined: Combined) -> None:
    client = combined.clients[""]
    summary = _poll(
        lambda: client.predict(api_name="/summary"),
        lambda s: {w["name"]: w["status"] for w in s["workers"]} == dict.fromkeys(NAMES, "online"),
        "every worker online on the dashboard",
    )
    assert summary["online"] == summary["expected"] == len(NAMES)
    assert "/health failed" not in summary["detail"]  # the pings reach the mounted workers
    assert "Monitoring Dashboard" in httpx.get(f"{combined.url}/").text


def test_each_worker_page_is_served_under_its_prefix(combined: Combined) -> None:
    for name in NAMES:
        page = httpx.get(f"{combined.url}/{name}/")
        assert page.status_code == 200 and f"autocoder · {worker_spec(name).title}" in page.text
        bare = httpx.get(f"{combined.url}/{name}")
        assert bare.status_code == 307 and bare.headers["location"] == f"{name}/"


def test_behind_the_space_proxy_each_page_keeps_its_prefix(combined: Combined) -> None:
    """The Hub's proxy sends X-Forwarded-Host: the page's root URL (where its browser code
    calls the API) must still end in the worker's prefix, and the dashboard's in none."""
    proxy = {"x-forwarded-host": PUBLIC_HOST, "x-forwarded-proto": "https"}
    for prefix in ["", *(f"/{name}" for name in NAMES)]:
        config = httpx.get(f"{combined.url}{prefix}/config", headers=proxy).json()
        assert config["root"] == f"https://{PUBLIC_HOST}{prefix}"


def test_controls_under_a_prefix_refuse_anonymous_and_wrong_tokens(combined: Combined) -> None:
    tasks = f"{combined.url}/implementation/api/tasks"
    for token in ("", WRONG):
        for name in NAMES:
            with pytest.raises(AppError, match="admin token"):
                combined.clients[name].predict(token, api_name="/stop")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        assert httpx.post(tasks, json={"id": "t1"}, headers=headers).status_code == 401
        assert httpx.get(tasks, headers=headers).status_code == 401
    states = [combined.clients[name].predict(api_name="/status")["state"] for name in NAMES]
    assert states == ["running"] * len(NAMES)  # refused calls left every worker as it was


def test_controls_under_a_prefix_accept_the_admin_token(combined: Combined) -> None:
    started = combined.clients["analysis"].predict(ADMIN, api_name="/start")
    assert "start requested by admin token" in started
    answer = httpx.get(f"{combined.url}/implementation/api/tasks",
                       headers={"Authorization": f"Bearer {ADMIN}"})  # fmt: skip
    assert answer.status_code == 200 and answer.json() == []


def test_root_health_reports_the_worst_worker_with_its_reason() -> None:
    answers = {
        "analysis": {"status": "ok", "reason": None},
        "test-planning": {"status": "degraded", "reason": "the last 3 iterations failed"},
        "implementation": {"status": "starting", "reason": None},
    }
    summed = combined_health(answers)
    assert summed["status"] == "degraded" and summed["workers"] == answers
    assert summed["reason"] == (
        "test-planning: degraded (the last 3 iterations failed); implementation: starting"
    )
    assert combined_health({"a": {"status": "ok"}, "b": {"status": "failed"}})["status"] == "failed"
    assert combined_health({"a": {"status": "ok"}})["status"] == "ok"


def test_a_hub_repo_of_one_worker_is_refused(tmp_path: Path) -> None:
    settings = Settings(target=str(tmp_path), data_dir=tmp_path / "d", hub_repo="alice/one")
    with pytest.raises(ConfigError, match=r"AUTOCODER_HUB_REPO='alice/one'.*HF_USERNAME"):
        combined_app(settings, install_logging([]))


# --- last: the stop, with a visitor's client still connected ------------------------------


def test_a_stop_pushes_every_worker_s_last_record_and_no_secret_leaks(combined: Combined) -> None:
    seen = [httpx.get(f"{combined.url}/{path}").text for path in ["", *(f"{n}/" for n in NAMES)]]
    seen += [httpx.get(f"{combined.url}/{path}").text for path in ["health", "api/summary"]]
    _every_worker_did(combined.url, 2)
    output = combined.stop()
    assert combined.proc.returncode == 0, output
    assert f"Combined Space: {combined.url}/" in output
    stopped = {name: (int(last), int(cancelled)) for name, last, cancelled
               in STOPPED.findall(output)}  # fmt: skip
    assert set(stopped) == set(NAMES), output
    for name, (last, cancelled) in stopped.items():
        spec = worker_spec(name)
        store = LocalStore(combined.data_dir / spec.dataset, spec.title, spec.description,
                           spec.configs)  # fmt: skip
        assert cancelled == 0 and last >= 2, (name, output)
        assert store.last_iteration() == last, name  # the last iteration is on disk, none lost
    seen += [output, *_dataset_texts(combined.data_dir)]
    assert not [secret for secret in (ADMIN, GITHUB) if any(secret in text for text in seen)]


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _dataset_texts(data: Path) -> Iterator[str]:
    for path in data.rglob("*"):
        if path.is_file() and ".cache" not in path.parts:
            yield path.read_bytes().decode("utf-8", "replace")
