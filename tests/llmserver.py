"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, with scripted answers.

    @pytest.fixture
    def llm():
        with running_llm_server(api_key=LLM_TEST_KEY) as server:   # clean, running, per test
            yield server

    def test_x(llm):
        llm.answer("```python\\nx = 1\\n```", prompt_tokens=12, completion_tokens=5)
        llm.rate_limit(retry_after="0")            # HTTP 429 with Retry-After: 0
        llm.fail(500)                              # HTTP 500, OpenAI's error body
        llm.raw(b"{not json")                      # HTTP 200 with a broken body
        llm.slow(5.0, "late")                      # answers after 5 s (cut short at shutdown)
        model = OpenAIChatModel(llm.url, LLM_TEST_KEY, "m", timeout_s=1)
        ...
        assert llm.requests[-1].json["max_tokens"] == 100

Each POST to ``/v1/chat/completions`` takes the next scripted answer, in order; with none left
it gets HTTP 500 "llmserver: no scripted answer left" (a test that forgot one fails loudly).
Every request is recorded (method, path, headers with lower-case names, JSON body). With
``api_key`` set, a request without ``Authorization: Bearer <api_key>`` gets 401.
Good answers have the shape OpenAI documents for ``chat.completion`` objects, ``usage`` included
unless ``usage=False``; ``model`` echoes the one asked unless scripted.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LLM_TEST_KEY = "sk-llmtest-DO-NOT-LEAK-7f3a9c"  # recognisable: tests assert it never leaks
CHAT_PATH = "/v1/chat/completions"


@dataclass
class LLMRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class Scripted:
    """One answer: ``body`` is a dict (sent as JSON) or raw bytes, after ``delay_s``."""

    status: int = 200
    body: dict[str, Any] | bytes = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    echo_model: bool = False


class LLMServer:
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[LLMRequest] = []
        self._script: list[Scripted] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- scripting -------------------------------------------------------------------------

    def answer(
        self,
        text: str | None,
        *,
        model: str | None = None,
        prompt_tokens: int = 10,
        completion_tokens: int = 20,
        usage: bool = True,
        delay_s: float = 0.0,
    ) -> None:
        """A good answer (``text`` None: a message without content)."""
        body: dict[str, Any] = {
            "id": f"chatcmpl-{len(self._script)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model or "",
            "system_fingerprint": "llmserver",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
        }
        if usage:
            body["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
        self._add(Scripted(body=body, delay_s=delay_s, echo_model=model is None))

    def rate_limit(
        self, retry_after: str | None = "0", message: str = "Rate limit reached"
    ) -> None:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        self._add(Scripted(429, _error_body(message, "rate_limit_exceeded"), headers))

    def fail(self, status: int = 500, message: str = "The server had an error") -> None:
        self._add(Scripted(status, _error_body(message, "server_error")))

    def raw(self, body: bytes, status: int = 200) -> None:
        self._add(Scripted(status, body))

    def slow(self, seconds: float, text: str = "too late") -> None:
        self.answer(text, delay_s=seconds)

    def _add(self, scripted: Scripted) -> None:
        with self._lock:
            self._script.append(scripted)

    # -- serving ---------------------------------------------------------------------------

    @property
    def chat_requests(self) -> list[LLMRequest]:
        return [r for r in self.requests if r.path == CHAT_PATH]

    def next_answer(self, request: LLMRequest) -> Scripted:
        with self._lock:
            self.requests.append(request)
            if request.method != "POST" or request.path != CHAT_PATH:
                return Scripted(404, _error_body(f"no route {request.path}", "not_found"))
            if self.api_key is not None and request.headers.get("authorization") != (
                f"Bearer {self.api_key}"
            ):
                return Scripted(401, _error_body("Incorrect API key provided", "invalid_api_key"))
            if not self._script:
                return Scripted(500, _error_body("llmserver: no scripted answer left", "test"))
            return self._script.pop(0)

    def wait(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": code, "param": None, "code": code}}


def _encoded(scripted: Scripted, asked: Any) -> bytes:
    """The body of a scripted answer; a good one names the model asked unless scripted."""
    payload = scripted.body
    if isinstance(payload, bytes):
        return payload
    if scripted.echo_model and isinstance(asked, dict):
        payload = {**payload, "model": asked.get("model", "")}
    return json.dumps(payload).encode()


def _handler(server: LLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = LLMRequest(self.command, self.path.split("?")[0], headers, body)
            scripted = server.next_answer(request)
            if scripted.delay_s:
                server.wait(scripted.delay_s)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(scripted, body)

        def _send(self, scripted: Scripted, asked: Any) -> None:
            data = _encoded(scripted, asked)
            self.send_response(scripted.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in scripted.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextlib.contextmanager
def running_llm_server(api_key: str | None = None) -> Iterator[LLMServer]:
    server = LLMServer(api_key)
    server.start()
    try:
        yield server
    finally:
        server.stop()
