"""Who may start and stop a worker, on every route.

Anonymous visitors and wrong tokens are refused whenever an admin token is set or the app runs on
a Space; without a token the controls are open only on a loopback bind off a Space. A refused call
leaves the worker as it was. Binding beyond loopback without a token is refused at start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from gradio_client import Client

from autocoder.apps.controls import authorize, check_bind
from autocoder.apps.launch import bind, bound_urls
from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app
from autocoder.cli import main
from autocoder.engine.logbuffer import install_logging
from autocoder.errors import ConfigError, Unauthorized
from autocoder.settings import Settings

from appkit import free_port, serving
from enginekit import spec

ADMIN = "adm-" + "k3" * 10  # built at run time: no token-looking literal in the source
WRONG = "adm-" + "z7" * 10
TOKENS = {"anonymous": "", "wrong": WRONG, "right": ADMIN}
SPACE = "alice/autocoder-analysis"
CONTROLS = {"start", "stop"}
# the *_buttons listeners only read the state to enable the Start or Stop button after a click
READ_ONLY = {"status", "latest", "refresh", "refresh_on_load", "spec_choices", "spec_code",
             "spec_choices_on_load", "start_buttons", "stop_buttons"}  # fmt: skip


@dataclass
class Running:
    url: str
    service: WorkerService
    token_set: bool
    on_space: bool
    client: Client

    def state(self) -> str:
        return str(self.service.status()["state"])

    def set_running(self, running: bool) -> None:
        assert self.service.worker is not None
        self.service.worker.running = running


def _settings(tmp: Path, token_set: bool, on_space: bool, **more: object) -> Settings:
    target = tmp / "target"
    target.mkdir(exist_ok=True)
    (target / "mod.py").write_text("value = 'a line longer than twenty characters'\n")
    values: dict[str, object] = {
        "target": str(target), "data_dir": tmp / "data", "interval_s": 3600,
        "admin_token": ADMIN if token_set else None, "space_id": SPACE if on_space else None,
        **more,
    }  # fmt: skip
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(
    scope="module",
    params=[(False, False), (False, True), (True, False), (True, True)],
    ids=["no-token-local", "no-token-space", "token-local", "token-space"],
)
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    token_set, on_space = request.param
    settings = _settings(tmp_path_factory.mktemp("controls"), token_set, on_space)
    service = WorkerService(spec(), settings)
    with serving(build_app(service, install_logging(settings.secrets()))) as url:
        deadline = time.time() + 30
        while service.worker is None and time.time() < deadline:
            time.sleep(0.05)
        assert service.worker is not None, "the worker did not start"
        yield Running(url, service, token_set, on_space, Client(url, verbose=False))


def _may_act(token_set: bool, on_space: bool, caller: str) -> bool:
    if token_set:
        return caller == "right"
    return not on_space  # no token: open on loopback off a Space; on a Space only the owner


# -- transports: each returns (accepted, message) ---------------------------------------------


def via_gradio_client(app: Running, token: str, action: str) -> tuple[bool, str]:
    try:
        return True, str(app.client.predict(token, api_name=f"/{action}"))
    except Exception as e:  # gradio_client raises AppError for gr.Error
        return False, str(e)


def _sse_outcome(lines: Iterator[str]) -> tuple[bool, str]:
    event = ""
    for line in lines:
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            return event == "complete", line.removeprefix("data:").strip()
    raise AssertionError("the event stream ended without an outcome")


def _via_events(app: Running, route: str, body: dict) -> tuple[bool, str]:
    posted = httpx.post(f"{app.url}/gradio_api/{route}", json=body)
    event_id = posted.raise_for_status().json()["event_id"]
    with httpx.stream("GET", f"{app.url}/gradio_api/{route}/{event_id}", timeout=30) as r:
        return _sse_outcome(r.iter_lines())


def via_call_api(app: Running, token: str, action: str) -> tuple[bool, str]:
    return _via_events(app, f"call/{action}", {"data": [token]})


def via_run_route(app: Running, token: str, action: str) -> tuple[bool, str]:
    answer = httpx.post(f"{app.url}/gradio_api/run/{action}", json={"data": [token]}, timeout=30)
    return answer.status_code == 200, answer.text


def via_call_v2(app: Running, token: str, action: str) -> tuple[bool, str]:
    return _via_events(app, f"call/v2/{action}", {"admin_token": token})


def via_queue_join(app: Running, token: str, action: str) -> tuple[bool, str]:
    config = httpx.get(f"{app.url}/config").json()
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == action)
    session = f"s{time.monotonic_ns()}"
    body = {"data": [token, None], "fn_index": fn_index, "session_hash": session,
            "event_data": None, "trigger_id": None}  # fmt: skip
    httpx.post(f"{app.url}/gradio_api/queue/join", json=body).raise_for_status()
    with httpx.stream(
        "GET", f"{app.url}/gradio_api/queue/data", params={"session_hash": session}, timeout=30
    ) as r:
        for line in r.iter_lines():
            message = json.loads(line.removeprefix("data:")) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return bool(message.get("success")), json.dumps(message.get("output"))
    raise AssertionError("the queue stream ended without an outcome")


Transport = Callable[[Running, str, str], tuple[bool, str]]


def _check_control(app: Running, caller: str, transport: Transport) -> None:
    may = _may_act(app.token_set, app.on_space, caller)
    token = TOKENS[caller]
    app.set_running(True)
    accepted, message = transport(app, token, "stop")
    assert accepted == may, message
    assert app.state() == ("stopped" if may else "running"), "a refused stop changed the worker"
    app.set_running(False)
    accepted, message = transport(app, token, "start")
    assert accepted == may, message
    assert app.state() == ("running" if may else "stopped"), "a refused start changed the worker"
    assert ADMIN not in message
    if not may:
        assert "AUTOCODER_ADMIN_TOKEN" in message or "Space owner" in message, message
    app.set_running(True)


@pytest.mark.parametrize("transport", [via_gradio_client, via_call_api])
@pytest.mark.parametrize("caller", ["anonymous", "wrong", "right"])
def test_controls_answer_only_those_who_may_use_them(
    running: Running, caller: str, transport: Transport
) -> None:
    _check_control(running, caller, transport)


@pytest.mark.parametrize("running", [(True, False)], ids=["token-local"], indirect=True)
@pytest.mark.parametrize("transport", [via_run_route, via_call_v2, via_queue_join])
@pytest.mark.parametrize("caller", ["anonymous", "wrong", "right"])
def test_every_raw_route_goes_through_the_same_check(
    running: Running, caller: str, transport: Transport
) -> None:
    _check_control(running, caller, transport)


def test_every_endpoint_is_a_guarded_control_or_read_only(running: Running) -> None:
    config = httpx.get(f"{running.url}/config").json()
    names = {d.get("api_name") for d in config["dependencies"]}
    assert names <= CONTROLS | READ_ONLY, (
        f"classify the new endpoints: {names - CONTROLS - READ_ONLY}"
    )
    assert names >= CONTROLS


def test_plain_routes_only_read(tmp_path: Path) -> None:
    settings = _settings(tmp_path, token_set=True, on_space=False)
    app = build_app(WorkerService(spec(), settings), install_logging(settings.secrets()))
    plain = [r for r in app.routes if isinstance(r, APIRoute)]
    assert any(r.path == "/health" for r in plain)
    for route in plain:
        assert route.methods <= {"GET", "HEAD"}, f"{route.path} {route.methods} changes state?"


def test_admin_token_box_is_visible_whenever_a_token_is_required(running: Running) -> None:
    config = httpx.get(f"{running.url}/config").json()
    boxes = [c for c in config["components"] if c["props"].get("label") == "Admin token"]
    assert len(boxes) == 1
    assert boxes[0]["props"]["visible"] is running.token_set
    assert ADMIN not in json.dumps(config)


def test_owner_login_counts_only_on_a_space(tmp_path: Path) -> None:
    on_space = _settings(tmp_path, token_set=True, on_space=True)
    assert authorize(on_space, None, "alice") == "alice"
    with pytest.raises(Unauthorized):
        authorize(on_space, None, "mallory")
    local = _settings(tmp_path, token_set=True, on_space=False)
    with pytest.raises(Unauthorized, match="AUTOCODER_ADMIN_TOKEN"):
        authorize(local, None, "alice")  # Gradio mocks a login off a Space: it must not count
    assert authorize(local, ADMIN, None) == "admin token"


def test_open_controls_need_a_loopback_bind(tmp_path: Path) -> None:
    exposed = _settings(tmp_path, token_set=False, on_space=False, host="0.0.0.0")
    with pytest.raises(Unauthorized, match="AUTOCODER_HOST"):
        authorize(exposed, "anything", None)
    for host in ("127.0.0.1", "localhost", "::1"):
        loopback = _settings(tmp_path, token_set=False, on_space=False, host=host)
        assert authorize(loopback, "", None) == "local user"
        check_bind(loopback)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.org"])
def test_binding_beyond_loopback_without_a_token_is_refused(tmp_path: Path, host: str) -> None:
    with pytest.raises(ConfigError, match="AUTOCODER_HOST") as refused:
        check_bind(_settings(tmp_path, token_set=False, on_space=False, host=host))
    assert "AUTOCODER_ADMIN_TOKEN" in str(refused.value)
    check_bind(_settings(tmp_path, token_set=True, on_space=False, host=host))
    check_bind(_settings(tmp_path, token_set=False, on_space=True, host=host))


@pytest.mark.parametrize("how", ["flag", "env"])
def test_serve_and_up_refuse_a_public_bind_without_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    monkeypatch.delenv("AUTOCODER_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    host = ["--host", "0.0.0.0"] if how == "flag" else []
    if how == "env":
        monkeypatch.setenv("AUTOCODER_HOST", "0.0.0.0")
    port = free_port()
    for command in (["serve", "analysis"], ["up"]):
        args = [*command, "--target", str(tmp_path), "--data-dir", str(tmp_path / "d")]
        assert main([*args, "--port", str(port), *host]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "AUTOCODER_HOST='0.0.0.0'" in err and "AUTOCODER_ADMIN_TOKEN" in err
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health")


def test_banner_prints_the_bound_address_and_says_which_is_loopback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOCODER_", "SPACE_"))}
    env |= {"AUTOCODER_ADMIN_TOKEN": ADMIN, "GRADIO_ANALYTICS_ENABLED": "False"}
    command = ["serve", "dashboard", "--host", "0.0.0.0", "--port", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "autocoder.cli", *command], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        banner = next((line for line in proc.stdout if line.startswith("Monitoring")), "")
        port = int(banner.split("http://0.0.0.0:")[1].split("/")[0]) if banner else 0
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        output = banner + proc.communicate(timeout=60)[0]
    assert f"http://0.0.0.0:{port}/ (bound to all interfaces;" in output, output
    assert f"from this machine: http://127.0.0.1:{port}/)" in output, output
    assert ADMIN not in output


def test_a_specific_address_is_printed_as_bound_and_a_port_in_use_is_one_clear_error() -> None:
    sock = bind("127.0.0.2", 0)
    try:
        port = sock.getsockname()[1]
        assert bound_urls(sock) == f"http://127.0.0.2:{port}/"
        with pytest.raises(ConfigError, match=f"AUTOCODER_PORT={port} on 127.0.0.2"):
            bind("127.0.0.2", port)
    finally:
        sock.close()
