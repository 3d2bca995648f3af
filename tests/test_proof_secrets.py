"""Proof of secrets: with fake HF_TOKEN, GITHUB_TOKEN, AUTOCODER_ADMIN_TOKEN and
AUTOCODER_LLM_API_KEY set, no app and no command shows any of them anywhere.

Every app (the three workers and the dashboard, served for real as on a Space) and every command
of ``autocoder`` runs with the four values, also down its failing paths: a model endpoint and a
Hub that quote the token back in their errors (:class:`leakkit.EchoServer`), a Hub that refuses
it, a git URL that cannot be reached. Then every log line (the apps' stderr and log page, other
libraries' loggers, child processes' output), page, Gradio config, API answer, exception text,
record and file under the data folder is searched for each value in four spellings: 0 hits.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from autocoder.apps.dashboard.app import dashboard_app
from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app
from autocoder.cli import main
from autocoder.engine.logbuffer import RingBuffer, install_logging
from autocoder.settings import Settings
from autocoder.workers.catalog import worker_names, worker_spec

from appkit import serving
from hubserver import HubServer
from leakkit import (
    Collected,
    EchoServer,
    Scan,
    banner_ports,
    collecting_root_logs,
    deployment_secrets,
    scan_deployed,
    stderr_of,
    target_repo,
    wait_for_first_record,
    waiting_for_the_hub,
)
from proofkit import full_run, proof_row

SECRETS = deployment_secrets()
ADMIN = SECRETS["AUTOCODER_ADMIN_TOKEN"]
TASK = {"type": "feature", "priority": 2, "description": "add a --dry-run flag"}
Recorder = Callable[[str, object], None]


@dataclass
class Served:
    urls: dict[str, str]
    services: dict[str, WorkerService]
    ring: RingBuffer
    stderr: io.StringIO
    logs: Collected
    data: Path
    model: EchoServer
    scan: Scan = field(default_factory=lambda: Scan(SECRETS))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The three workers and the dashboard on one data folder, as on a Space, every secret set
    and the model endpoint quoting its key back in a 401."""
    tmp = tmp_path_factory.mktemp("secrets")
    with contextlib.ExitStack() as stack:
        model = stack.enter_context(EchoServer(401))
        logs = stack.enter_context(collecting_root_logs())
        settings = Settings(
            target=str(target_repo(tmp / "target")), data_dir=tmp / "data", interval_s=3600,
            network=False, space_id="alice/autocoder", hf_token=SECRETS["HF_TOKEN"],
            github_token=SECRETS["GITHUB_TOKEN"], admin_token=ADMIN,
            llm_api_key=SECRETS["AUTOCODER_LLM_API_KEY"], llm_base_url=f"{model.url}/v1",
            llm_model="echo-model",
        )  # fmt: skip
        ring = install_logging(settings.secrets())
        stderr = stderr_of(ring)
        services = {name: WorkerService(worker_spec(name), settings) for name in worker_names()}
        urls = {name: stack.enter_context(serving(build_app(s, ring)))
                for name, s in services.items()}  # fmt: skip
        for service in services.values():
            wait_for_first_record(service)
        pings = ",".join(f"{name}={url}" for name, url in urls.items())
        dashboard = dashboard_app(settings.model_copy(update={"worker_urls": pings}))
        urls["dashboard"] = stack.enter_context(serving(dashboard))
        yield Served(urls, services, ring, stderr, logs, tmp / "data", model)


def _predictions(client: Client, name: str) -> Iterator[tuple[str, Any]]:
    """(endpoint, answer or error text) for each public Gradio endpoint an app has."""
    if name == "dashboard":
        calls: list[tuple[str, tuple[Any, ...]]] = [("/summary", ()), ("/findings", ())]
    else:
        # a start that works would run an iteration: the wrong token's refusal is what is shown
        calls = [("/status", ()), ("/latest", ()), ("/start", ("wrong",)), ("/stop", ("",)),
                 ("/stop", (ADMIN,))]  # fmt: skip
        if name == "implementation":
            calls += [("/submit_task", (ADMIN, TASK)), ("/tasks", (ADMIN,)),
                      ("/submit_task", (ADMIN, {"type": "nope"})), ("/tasks", ("",))]  # fmt: skip
    for endpoint, args in calls:
        try:
            yield endpoint, client.predict(*args, api_name=endpoint)
        except Exception as e:  # gr.Error reaches the client as AppError: its text is shown
            yield endpoint, f"{type(e).__name__}: {e}"


def _raw_http(url: str, name: str) -> Iterator[tuple[str, httpx.Response]]:
    gets = ["/", "/config", "/health", "/gradio_api/info"]
    gets += ["/api/summary"] if name == "dashboard" else []
    for path in gets:
        yield f"GET {path}", httpx.get(url + path, timeout=30)
    if name == "implementation":
        for token in ("", "wrong", ADMIN):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            yield "GET /api/tasks", httpx.get(f"{url}/api/tasks", headers=headers, timeout=30)
            yield "POST /api/tasks", httpx.post(f"{url}/api/tasks", json=TASK, headers=headers)
        yield "GET /api/tasks/x", httpx.get(f"{url}/api/tasks/task-x", headers=headers)


@pytest.mark.parametrize("name", [*worker_names(), "dashboard"])
def test_an_app_shows_no_secret_in_its_pages_or_answers(
    served: Served, name: str, record_property: Recorder
) -> None:
    url, scan = served.urls[name], Scan(SECRETS)
    for what, response in _raw_http(url, name):
        scan.add(f"{name} {what} -> {response.status_code}", response.content)
        scan.add(f"{name} {what} headers", str(response.headers))
    for endpoint, answer in _predictions(Client(url, verbose=False), name):
        scan.add(f"{name} gradio_client {endpoint}", str(answer))
    served.scan.seen += scan.seen
    assert scan.hits() == []
    proof_row(record_property, "secrets", f"{name} app: pages, config, API answers",
              "0 hits", scan.size)  # fmt: skip


def test_no_secret_in_logs_records_files_or_failures_of_the_apps(
    served: Served, record_property: Recorder
) -> None:
    scan = served.scan
    scan.add("stderr", served.stderr.getvalue())
    scan.add("log page", "\n".join(served.ring.lines))
    scan.add("other libraries' logs", "\n".join(served.logs.lines))
    model = served.services["implementation"].worker
    assert model is not None and model._ask_model is not None
    with pytest.raises(Exception) as refused:  # the worker's own model call, as a stage makes it
        model._ask_model("You review code.", "Is this safe?", 16)
    scan.add("model failure", f"{refused.value!r} {refused.value} {refused.value.__cause__!r}")
    for name, service in served.services.items():
        scan.add(f"{name} status", repr(service.status()))
        scan.add(f"{name} failure", f"{service.failure} {service.store_error()}")
    files = scan.add_folder("data", served.data)
    assert served.stderr.getvalue() and served.ring.lines, "nothing was logged: the scan is void"
    assert served.model.echoed > 0, "the model endpoint never got the key: the scan is void"
    assert files > 10, f"only {files} files were written"
    assert scan.hits() == []
    proof_row(record_property, "secrets", "4 apps: logs, records, data files, failures",
              "0 hits", f"{scan.size}, {files} files, model asked {served.model.echoed}x")  # fmt: skip


def test_the_scan_finds_each_secret_in_each_spelling(tmp_path: Path) -> None:
    """The scan is the proof: it must see a value however a writer spelled it."""
    import base64

    for name, value in SECRETS.items():
        for shown in (value, value.upper()[3:-3], base64.b64encode(value.encode()).decode()):
            scan = Scan(SECRETS)
            (tmp_path / "f.json").write_text(f'{{"said": "...{shown}..."}}')
            scan.add_folder("tmp", tmp_path)
            assert any(name in hit for hit in scan.hits()), (name, shown)


# -- every command, in this process ------------------------------------------------------------


def _commands(tmp: Path, target: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    """(what, argv, extra environment): each command, the failing paths among them."""
    data, out = ["--data-dir", str(tmp / "data")], str(tmp / "tests-out")
    runs: list[tuple[str, list[str], dict[str, str]]]
    runs = [(f"once {w}", ["once", w, "--target", str(target), *data], {}) for w in worker_names()]
    given_token = f"https://x-access-token:{SECRETS['GITHUB_TOKEN']}@127.0.0.1:9/owner/repo.git"
    hub_user = {"HF_USERNAME": "someone"}  # Hub mode: the test Hub refuses the fake HF_TOKEN
    return [
        *runs,
        ("latest", ["latest", "analysis", *data], {}),
        ("sarif", ["sarif", *data], {}),
        ("tests", ["tests", "--write", out, *data], {}),
        ("gate", ["gate", *data], {}),
        ("repair", ["repair", *data], {}),
        ("patches", ["patches", "--json", *data], {}),
        ("apply (not a git checkout)", ["apply", "patch-0", "--to", str(target), *data], {}),
        ("status", ["status", "--json", *data], {"AUTOCODER_WORKER_URLS": ""}),
        ("once (unreachable git URL holding the token)",
         ["once", "analysis", "--target", given_token, "--data-dir", str(tmp / "git")], {}),
        ("once (Hub refuses the token)",
         ["once", "analysis", "--target", str(target), "--data-dir", str(tmp / "hub")], hub_user),
        ("latest (Hub refuses the token)", ["latest", "analysis", "--repo", "someone/x"], {}),
        ("status (Hub refuses the token)", ["status"], {**hub_user, "AUTOCODER_WORKER_URLS": ""}),
        ("deploy --dry-run (Hub refuses the token)", ["deploy", "--dry-run"], hub_user),
        ("deploy --dry-run", ["deploy", "--dry-run"], {**hub_user, "ACCEPT": "1"}),
        ("deploy", ["deploy", "--target", "https://example.org/o/r.git"], {**hub_user, "ACCEPT": "1"}),
    ]  # fmt: skip


def _deployment_env(monkeypatch: pytest.MonkeyPatch, model_url: str) -> None:
    for name in [n for n in os.environ if n.startswith(("AUTOCODER_", "SPACE_", "HF_USER"))]:
        monkeypatch.delenv(name)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AUTOCODER_LLM_BASE_URL", f"{model_url}/v1")
    monkeypatch.setenv("AUTOCODER_LLM_MODEL", "echo-model")
    monkeypatch.setenv("AUTOCODER_NETWORK", "false")


def test_no_command_shows_a_secret_on_any_path(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, record_property: Recorder,
) -> None:  # fmt: skip
    target, scan, codes = target_repo(tmp_path / "target"), Scan(SECRETS), []
    caplog.set_level(logging.INFO)
    with EchoServer(401) as model:
        _deployment_env(monkeypatch, model.url)
        for what, argv, extra in _commands(tmp_path, target):
            hub.tokens = {*hub.tokens, SECRETS["HF_TOKEN"]} if extra.get("ACCEPT") else hub.tokens
            with monkeypatch.context() as env:
                for name, value in extra.items():
                    env.setenv(name, value)
                codes.append(main(argv))
            hub.tokens.discard(SECRETS["HF_TOKEN"])
            out, err = capsys.readouterr()
            scan.add(f"{what}: stdout", out)
            scan.add(f"{what}: stderr", err)
    scan.add("other libraries' logs", caplog.text)
    files = scan.add_folder("files", tmp_path) + scan_deployed(hub, scan)
    assert codes[0] == 0 and 2 in codes, f"the runs did not both work and fail: {codes}"
    assert any(r.has_auth for r in hub.requests), "the token never reached the Hub: void"
    assert scan.hits() == []
    proof_row(record_property, "secrets", f"{len(codes)} commands, failing paths included",
              "0 hits", f"exit codes {codes}, {files} files, {scan.size}")  # fmt: skip


# -- the apps as a user starts them: a child process -------------------------------------------


def _child_env(hub_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOCODER_", "SPACE_"))}
    return env | SECRETS | {
        "HF_ENDPOINT": hub_url, "HF_USERNAME": "someone", "AUTOCODER_NETWORK": "false",
        "SPACE_ID": "someone/autocoder", "GRADIO_ANALYTICS_ENABLED": "False",
        "AUTOCODER_LLM_BASE_URL": f"{hub_url}/v1", "AUTOCODER_LLM_MODEL": "echo-model",
    }  # fmt: skip


def test_served_apps_show_no_secret_while_the_hub_quotes_the_token_back(
    tmp_path: Path, record_property: Recorder
) -> None:
    """``autocoder up`` (all four apps) under AUTOCODER_PROOF=full, ``serve analysis`` (what a
    Space runs) in the short run: a child process each, its whole output scanned."""
    command = ["up"] if full_run() else ["serve", "analysis"]
    workers = worker_names() if full_run() else ["analysis"]
    apps = [*(["dashboard"] if full_run() else []), *workers]  # up prints the dashboard first
    scan, target = Scan(SECRETS), target_repo(tmp_path / "target")
    with EchoServer(500) as echo:
        command += ["--port", "0", "--target", str(target), "--data-dir", str(tmp_path / "d")]
        proc = subprocess.Popen(
            [sys.executable, "-m", "autocoder.cli", *command], env=_child_env(echo.url),
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            ports = banner_ports(proc)
            if len(ports) != len(apps):
                proc.kill()
                pytest.fail(f"{command[0]} named ports {ports}: {proc.communicate(timeout=30)[0]}")
            for port in ports[-len(workers) :]:
                health = waiting_for_the_hub(port)
                assert "HTTP 500" in health.text, health.text
                scan.add(f"{port} /health", health.content)
            for port in ports:
                for path in ("/", "/config", "/health", "/api/summary"):
                    scan.add(f"{port} {path}", httpx.get(f"http://127.0.0.1:{port}{path}").content)
        finally:
            proc.send_signal(signal.SIGINT)
            output = proc.communicate(timeout=90)[0]
    scan.add(f"{command[0]}: stdout and stderr", output)
    scan.add_folder("data", tmp_path / "d")
    assert echo.echoed > 0, "the Hub was never sent the token: the scan is void"
    assert scan.hits() == [], output[-2000:]
    proof_row(record_property, "secrets", f"autocoder {command[0]}, the Hub quoting the token",
              "0 hits", f"{echo.echoed} echoed errors, {scan.size}")  # fmt: skip
