"""A fake GitHub REST API on 127.0.0.1 for the real PyGithub client, recording every request.

    @pytest.fixture
    def github():
        with running_github() as server:        # a clean, running server per test
            yield server

    def test_x(github):
        github.add_repo("octo/shop")             # default branch "main"
        ...publish with api_url=github.url, token=GITHUB_TEST_TOKEN...
        assert github.requests[-1].json["draft"] is True
        github.fail_next(503)                   # the next request gets 503
        github.fail_next(422, "Validation Failed", method="POST", errors=["A pull request ..."])

The publishing tests' other network edge lives here too: :func:`bare_remote` makes a git remote on
disk (a bare repository whose default branch ``main`` has one commit) and
:func:`publishable` a patch of it, as the implementation worker would hand it over.

Implemented: ``GET /repos/{o}/{n}``, ``GET /repos/{o}/{n}/pulls`` (``state``, ``head`` filters)
and ``POST /repos/{o}/{n}/pulls`` (201; 422 "A pull request already exists" for a head with an
open one), with the JSON shapes GitHub documents. A request without a known token gets 401
"Bad credentials"; an unknown repo 404 "Not Found". Nothing else of GitHub is.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from autocoder.publish import Publishable

GITHUB_TEST_TOKEN = "ghp_" + "testtokennotsecret0123456789abcdef"  # built: no token literal


@dataclass
class GitHubRequest:
    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    status: int = 0


@dataclass
class FakeRepo:
    full_name: str
    default_branch: str = "main"
    pulls: list[dict[str, Any]] = field(default_factory=list)


class GitHubServer:
    def __init__(self) -> None:
        self.tokens = {GITHUB_TEST_TOKEN}
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[GitHubRequest] = []
        self._faults: list[tuple[int, dict[str, Any], str | None]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> GitHubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_repo(self, full_name: str, default_branch: str = "main") -> FakeRepo:
        repo = FakeRepo(full_name, default_branch)
        self.repos[full_name] = repo
        return repo

    def fail_next(
        self, status: int, message: str = "Server Error", *, method: str | None = None,
        errors: list[str] | None = None,
    ) -> None:  # fmt: skip
        """Answer the next request (of ``method``, if given) with ``status`` and GitHub's error
        JSON: ``message`` and, as ``errors[].message``, each of ``errors``."""
        answer: dict[str, Any] = {"message": message, "status": str(status)}
        if errors:
            answer["errors"] = [{"resource": "PullRequest", "code": "custom", "message": e}
                                for e in errors]  # fmt: skip
        self._faults.append((status, answer, method))

    def writes(self) -> list[GitHubRequest]:
        return [r for r in self.requests if r.method != "GET"]

    # -- dispatch ----------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        payload = json.loads(body) if body else None
        record = GitHubRequest(method, parts.path, parse_qs(parts.query), headers, payload)
        with self._lock:
            self.requests.append(record)
            status, answer = self._answer(record)
            record.status = status
        return status, answer

    def _answer(self, req: GitHubRequest) -> tuple[int, Any]:
        for fault in self._faults:
            status, answer, method = fault
            if method is None or method == req.method:
                self._faults.remove(fault)
                return status, answer
        auth = req.headers.get("Authorization", "")
        if auth.split(" ", 1)[-1] not in self.tokens:
            return 401, {"message": "Bad credentials", "status": "401"}
        segments = req.path.strip("/").split("/")
        if len(segments) < 3 or segments[0] != "repos":
            return 404, {"message": "Not Found", "status": "404"}
        repo = self.repos.get(f"{segments[1]}/{segments[2]}")
        if repo is None:
            return 404, {"message": "Not Found", "status": "404"}
        rest = segments[3:]
        if req.method == "GET" and not rest:
            return 200, self._repo_json(repo)
        if rest == ["pulls"] and req.method == "GET":
            return 200, self._list_pulls(repo, req.query)
        if rest == ["pulls"] and req.method == "POST":
            return self._create_pull(repo, req.json or {})
        return 404, {"message": "Not Found", "status": "404"}

    def _repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        owner, name = repo.full_name.split("/")
        return {"id": 1, "name": name, "full_name": repo.full_name, "private": False,
                "owner": {"login": owner}, "default_branch": repo.default_branch,
                "url": f"{self.url}/repos/{repo.full_name}"}  # fmt: skip

    def _list_pulls(self, repo: FakeRepo, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        state = query.get("state", ["open"])[0]
        head = query.get("head", [None])[0]
        return [
            p for p in repo.pulls
            if (state == "all" or p["state"] == state) and (head is None or p["head"]["label"] == head)
        ]  # fmt: skip

    def _create_pull(self, repo: FakeRepo, body: dict[str, Any]) -> tuple[int, Any]:
        owner = repo.full_name.split("/")[0]
        missing = [key for key in ("head", "base") if not body.get(key)]
        if missing:
            return 422, {"message": "Validation Failed",
                         "errors": [{"resource": "PullRequest", "field": missing[0],
                                     "code": "missing_field"}]}  # fmt: skip
        label = f"{owner}:{body['head']}"
        if any(p["head"]["label"] == label and p["state"] == "open" for p in repo.pulls):
            return 422, {"message": "Validation Failed",
                         "errors": [{"resource": "PullRequest", "code": "custom",
                                     "message": f"A pull request already exists for {label}."}]}  # fmt: skip
        number = len(repo.pulls) + 1
        pull = {
            "id": 1000 + number, "number": number, "state": "open", "draft": bool(body.get("draft")),
            "title": body.get("title", ""), "body": body.get("body"),
            "html_url": f"https://github.example/{repo.full_name}/pull/{number}",
            "url": f"{self.url}/repos/{repo.full_name}/pulls/{number}",
            "head": {"ref": body["head"], "label": label},
            "base": {"ref": body["base"], "label": f"{owner}:{body['base']}"},
        }  # fmt: skip
        repo.pulls.append(pull)
        return 201, pull


def _handler_for(server: GitHubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, answer = server.handle(self.command, self.path, dict(self.headers), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running_github() -> Iterator[GitHubServer]:
    """A clean server for one test (a test module's ``github`` fixture yields from it)."""
    server = GitHubServer().start()
    try:
        yield server
    finally:
        server.stop()


# -- a git remote on disk ----------------------------------------------------------------------

APP_TEXT = "def total(prices):\n    return sum(prices)\n"
PATCHED_TEXT = "def total(prices: list[float]) -> float:\n    return sum(prices)\n"


def run_git(cwd: Path, *args: str) -> str:
    """git as a person would run it (a fixed author), for setting up and inspecting remotes."""
    env = {"GIT_AUTHOR_NAME": "someone", "GIT_AUTHOR_EMAIL": "someone@example.com",
           "GIT_COMMITTER_NAME": "someone", "GIT_COMMITTER_EMAIL": "someone@example.com",
           "HOME": str(cwd), "PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass(frozen=True)
class BareRemote:
    path: Path  # the bare repository
    base: str  # the one commit of main

    def tip(self, branch: str) -> str | None:
        out = run_git(self.path, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
        return out or None

    def show(self, revision: str) -> str:
        return run_git(self.path, "show", revision)


def bare_remote(tmp_path: Path, default_branch: str = "main") -> BareRemote:
    """A bare repo whose ``default_branch`` holds ``app.py`` (:data:`APP_TEXT`) in one commit."""
    work = tmp_path / "origin-work"
    work.mkdir()
    run_git(work, "init", "-q", "-b", default_branch)
    (work / "app.py").write_text(APP_TEXT)
    (work / "README.md").write_text("# shop\n")
    run_git(work, "add", "-A")
    run_git(work, "commit", "-q", "-m", "initial")
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return BareRemote(bare, run_git(work, "rev-parse", "HEAD"))


def publishable(
    remote: BareRemote, *, status: str = "verified", item_id: str = "item-1",
    new_text: str = PATCHED_TEXT, patch_id: str = "patch-0123456789abcdef",
) -> Publishable:  # fmt: skip
    """A patch of ``app.py`` at the remote's base commit, its diff made by git itself."""
    work = Path(tempfile.mkdtemp(prefix="diff-", dir=remote.path.parent)) / "work"
    run_git(remote.path.parent, "clone", "-q", str(remote.path), str(work))
    (work / "app.py").write_text(new_text)
    diff = run_git(work, "diff", "--no-color") + "\n"
    return Publishable(
        patch_id=patch_id, item_id=item_id, base_commit=remote.base, diff=diff,
        files=("app.py",), new_texts={"app.py": new_text}, status=status,
        title="autocoder: fix ANN001 in app.py", body="### Finding\n\nmissing annotations\n",
    )  # fmt: skip
