"""Fake deployment secrets, a scan for them in everything a run shows, and a careless server.

    secrets = deployment_secrets()           # HF_TOKEN, GITHUB_TOKEN, ... -> a fake value each
    scan = Scan(secrets)
    scan.add("GET /health", answer.text)     # text or bytes, from anywhere
    scan.add_folder("data", data_dir)        # every file, as bytes
    assert scan.hits() == []                 # ["GET /health: HF_TOKEN (raw)", ...]

The values are shaped like real ones (``hf_...``, ``ghp_...``, ``sk-...``) so redaction that
matches shapes is tested too, and built at run time from a seeded generator: no token-looking
literal in the source, and a failure is reproducible. :class:`EchoServer` answers every request
with an error that quotes its ``Authorization`` header back (body and ``X-Error-Message``), as
careless servers do, so whatever shows a server's error would show the token.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import random
import re
import string
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from autocoder.engine.logbuffer import RingBuffer

if TYPE_CHECKING:  # annotations only: importing these here could come before hubserver's setup
    from autocoder.apps.service import WorkerService

    from hubserver import HubServer

SEED = 15


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def deployment_secrets(seed: int = SEED) -> dict[str, str]:
    """The four secrets a deployment holds, by environment variable, each distinct."""
    rng = random.Random(seed)
    alnum = string.ascii_letters + string.digits
    return {
        "HF_TOKEN": "hf" + "_" + _pick(rng, string.ascii_letters, 34),
        "GITHUB_TOKEN": "ghp" + "_" + _pick(rng, alnum, 36),
        "AUTOCODER_ADMIN_TOKEN": _pick(rng, alnum + "-_", 43),
        "AUTOCODER_LLM_API_KEY": "sk" + "-" + _pick(rng, alnum, 48),
    }


def spellings(secrets: dict[str, str]) -> dict[str, bytes]:
    """Each secret as a writer could spell it, lower-cased (looked for in any case): raw, its
    16-character middle (a cut or wrapped copy), base64, and the git Basic header's base64."""
    found: dict[str, bytes] = {}
    for name, value in secrets.items():
        middle = len(value) // 2
        forms = {
            "raw": value,
            "part": value[middle - 8 : middle + 8],
            "base64": base64.b64encode(value.encode()).decode(),
            "basic auth": base64.b64encode(f"x-access-token:{value}".encode()).decode(),
        }
        for form, text in forms.items():
            found[f"{name} ({form})"] = text.lower().encode()
    return found


@dataclass
class Scan:
    """Everything a run showed, by where it was seen, and which secrets it holds."""

    secrets: dict[str, str]
    seen: list[tuple[str, bytes]] = field(default_factory=list)

    def add(self, where: str, shown: str | bytes | None) -> None:
        data = shown.encode("utf-8", "replace") if isinstance(shown, str) else (shown or b"")
        self.seen.append((where, data.lower()))

    def add_folder(self, where: str, folder: Path) -> int:
        """Every file under ``folder``; how many there were."""
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        for path in files:
            self.add(f"{where}/{path.relative_to(folder)}", path.read_bytes())
        return len(files)

    def hits(self) -> list[str]:
        forms = spellings(self.secrets)
        return [f"{where}: {name}" for where, data in self.seen
                for name, form in forms.items() if form in data]  # fmt: skip

    @property
    def size(self) -> str:
        return f"{len(self.seen)} texts, {sum(len(d) for _w, d in self.seen) // 1024} KiB"


class EchoServer:
    """Every request answered ``status`` with its Authorization header quoted back, on
    127.0.0.1, in the error shapes of the Hub (``X-Error-Message``, ``{"error": ...}``) and of
    OpenAI (``{"error": {"message": ...}}``). ``echoed`` counts the answers that quoted a
    token: a run that never sent one proves nothing."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.echoed = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> EchoServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def answer(self, authorization: str, path: str) -> tuple[bytes, dict[str, str]]:
        if authorization:
            with self.lock:
                self.echoed += 1
        said = f"credentials {authorization!r} are not valid for {path}"
        body = {"error": {"message": said, "type": "invalid_request_error", "code": "bad_key"}}
        return json.dumps(body).encode(), {"X-Error-Message": said[:900]}


def _handler(server: EchoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _echo(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            body, headers = server.answer(self.headers.get("Authorization", ""), self.path)
            self.send_response(server.status)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _echo

    return Handler


def target_repo(root: Path) -> Path:
    """A small target with a finding (``shell=True``), so every worker has something to say."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "core.py").write_text(
        "import subprocess\n\n\ndef run(cmd: str) -> int:\n"
        "    return subprocess.call(cmd, shell=True)\n"
    )
    return root


class Collected(logging.Handler):
    """What the other libraries log (they propagate to the root logger; autocoder's own lines
    do not, and are read where they are shown: stderr and the log page)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def collecting_root_logs() -> Iterator[Collected]:
    root, handler = logging.getLogger(), Collected()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def stderr_of(ring: RingBuffer) -> io.StringIO:
    """Point the log's stderr handler (installed with ``ring``) at a buffer the test reads."""
    stream = io.StringIO()
    for handler in logging.getLogger("autocoder").handlers:
        if isinstance(handler, logging.StreamHandler) and handler is not ring:
            handler.setStream(stream)
    return stream


def banner_ports(proc: subprocess.Popen[str], timeout_s: float = 120) -> list[int]:
    """The ports `up` prints, read from its banner until its ``data:`` line."""
    assert proc.stdout is not None
    ports: list[int] = []
    deadline = time.time() + timeout_s
    for line in proc.stdout:
        found = re.search(r"http://[^/\s]+:(\d+)/", line)
        if found and not line.startswith("data:"):
            ports.append(int(found.group(1)))
        if line.startswith("data:") or time.time() > deadline:
            break
    return ports


def waiting_for_the_hub(port: int, timeout_s: float = 30) -> httpx.Response:
    """The worker's /health once it says what the Hub answered (the echoed error)."""
    deadline = time.time() + timeout_s
    while True:
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
        if "HTTP 500" in health.text or time.time() > deadline:
            return health
        time.sleep(0.3)


def wait_for_first_record(service: WorkerService, timeout_s: float = 90) -> None:
    deadline = time.time() + timeout_s
    while service.store.last_iteration() < 1 and time.time() < deadline:
        time.sleep(0.1)
    assert service.store.last_iteration() >= 1, f"{service.spec.name} wrote no record"


def scan_deployed(hub: HubServer, scan: Scan) -> int:
    """What deploy left on the Hub in public: every file of every repo, the Space variables.
    The secrets are where they belong (a Space secret), which proves deploy had them."""
    spaces = [repo_id for kind, repo_id in hub.repos if kind == "space"]
    assert spaces and all(
        hub.space_secrets(s).get("HF_TOKEN") == scan.secrets["HF_TOKEN"] for s in spaces
    ), "deploy set no HF_TOKEN secret: the scan is void"
    for space in spaces:
        scan.add(f"hub {space} variables", repr(hub.space_variables(space)))
    uploaded = 0
    for kind, repo_id in list(hub.repos):
        for path, data in hub.files(repo_id, kind).items():
            scan.add(f"hub {kind} {repo_id}/{path}", data)
            uploaded += 1
    return uploaded
