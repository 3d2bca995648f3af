"""A protocol-level Hugging Face Hub test server for the real `huggingface_hub` and `datasets`.

Import this module FIRST (tests/conftest.py does): at import it reserves a free port on 127.0.0.1
and points the Hugging Face clients at it (HF_ENDPOINT, temp HF_HOME, no token, no Xet). Both
clients read these variables when they are imported, so importing this module after them fails.

    def test_x(hub):                       # function fixture: a clean, running server
        api = HfApi(token=TEST_TOKEN)       # tokens outside `hub.tokens` get 401
        hub.fail_next(1, status=429, retry_after=0, path_contains="/commit/")
        hub.down(); hub.up()                # 503 to every request in between
        assert hub.requests[-1].status == 200

Repos live in memory: (type, "ns/name") -> a linear history of commits on main, each a full
snapshot {path: bytes}. Text files upload in "regular" mode (inline base64 in the ndjson commit);
files matching the repo's .gitattributes LFS patterns (*.parquet, ...), binary or >= 10 MiB ones
go through the classic git-lfs batch + PUT path, as `Dataset.push_to_hub` needs.
Pull requests: a commit with `create_pr=1` opens PR N (`refs/pr/N`, answered as
`pullRequestUrl` .../discussions/N) from its `parentCommit` (else the head of main), leaving main
alone; commits to `refs/pr/N` extend it; `GET .../discussions` lists them.
Spaces: `create_repo(repo_type="space", space_sdk=..., space_hardware=..., space_secrets=...,
space_variables=...)`, `GET /api/spaces/{id}` (with `sdk`, `subdomain`, `runtime`),
`GET/POST/DELETE /api/spaces/{id}/secrets` (values write-only: GET lists keys), the same for
`/variables` (GET answers values), `POST /api/spaces/{id}/hardware` (`{"flavor"}`: becomes the
runtime's requested and current hardware at once) and `GET /api/spaces/{id}/runtime` (always
RUNNING). What is set is inspectable: `hub.space_secrets(id)`, `hub.space_variables(id)`,
`hub.space_hardware(id)`. Spaces never build or run here.
Not implemented: branches, tags, discussion comments, merging, Xet, pagination, Space builds,
restarts, sleep times, volumes.
"""

from __future__ import annotations

import atexit
import base64
import fnmatch
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

_CLIENTS = ("huggingface_hub", "datasets")
if _already := [name for name in _CLIENTS if name in sys.modules]:
    raise RuntimeError(
        f"tests/hubserver.py was imported after {', '.join(_already)}: import order is wrong. "
        "These clients read HF_ENDPOINT/HF_HOME at import time, so `import hubserver` must come "
        "before anything imports huggingface_hub or datasets (first line of tests/conftest.py)."
    )

TEST_TOKEN = "test-token-not-secret"
TEST_USER = "test-user"
RATE_LIMIT_TEXT = "You have exceeded the rate limit for repository commits (128 per hour)"
_SERVER_ERROR_TEXT = "Internal Error - We're working hard to fix this as soon as possible!"
_LFS_PATTERNS = (
    "*.7z *.arrow *.bin *.bz2 *.ckpt *.gz *.h5 *.joblib *.npy *.npz *.onnx *.parquet "
    "*.pickle *.pkl *.pt *.pth *.safetensors *.tar *.tgz *.xz *.zip *.zst *.png *.jpg"
)
_GITATTRIBUTES = "".join(
    f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in _LFS_PATTERNS.split()
)
_LFS_MIN_SIZE = 10 * 1024 * 1024  # the Hub also sends files this large (or binary ones) to LFS


def _reserve_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


_reserved: socket.socket | None = _reserve_port()
PORT: int = _reserved.getsockname()[1]
_HF_TMP = tempfile.mkdtemp(prefix="hubserver-hf-")
atexit.register(shutil.rmtree, _HF_TMP, ignore_errors=True)
for _var in (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
    "HF_STORED_TOKENS_PATH",
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_XET_CACHE",
    "HF_ASSETS_CACHE",
):
    os.environ.pop(_var, None)
os.environ.update(
    {
        "HF_ENDPOINT": f"http://127.0.0.1:{PORT}",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
        "HF_HOME": os.path.join(_HF_TMP, "home"),
        "HF_DATASETS_CACHE": os.path.join(_HF_TMP, "datasets"),
    }
)


def git_blob_sha(data: bytes) -> str:
    """The git blob sha1 the Hub reports as `oid` for a regular file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(data: bytes) -> bytes:
    """The git-lfs pointer file git stores in place of an LFS file."""
    oid = hashlib.sha256(data).hexdigest()
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(data)}\n".encode()
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Commit:
    sha: str
    title: str
    message: str
    date: str
    files: dict[str, bytes]
    lfs: set[str] = field(default_factory=set)  # paths stored as LFS objects

    def blob(self, path: str) -> dict:
        """`oid` (git blob sha1, of the pointer for LFS files), `size` and, for LFS, `lfs`."""
        data = self.files[path]
        if path not in self.lfs:
            return {"oid": git_blob_sha(data), "size": len(data)}
        pointer = lfs_pointer(data)
        lfs = {
            "oid": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "pointerSize": len(pointer),
        }
        return {"oid": git_blob_sha(pointer), "size": len(data), "lfs": lfs}

    def is_lfs_candidate(self, path: str, size: int, sample: bytes) -> bool:
        """Whether the Hub would ask for an LFS upload: .gitattributes match, big or binary."""
        patterns = [
            line.split()[0]
            for line in self.files.get(".gitattributes", b"").decode(errors="replace").splitlines()
            if "filter=lfs" in line
        ]
        name = path.rsplit("/", 1)[-1]
        matched = any(fnmatch.fnmatch(name, pat) or fnmatch.fnmatch(path, pat) for pat in patterns)
        return matched or size >= _LFS_MIN_SIZE or b"\0" in sample


@dataclass
class PullRequest:
    num: int
    title: str
    created_at: str
    base: Commit  # the main commit it was opened from
    commits: list[Commit] = field(default_factory=list)
    status: str = "open"


@dataclass
class Repo:
    type: str  # "model" | "dataset" | "space"
    id: str  # "ns/name"
    private: bool
    created_at: str
    commits: list[Commit] = field(default_factory=list)
    sdk: str | None = None
    prs: dict[int, PullRequest] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # Spaces: key -> value (write-only)
    variables: dict[str, str] = field(default_factory=dict)  # Spaces: key -> value
    hardware: str = "cpu-basic"  # Spaces: the flavor asked for last

    def runtime(self) -> dict:
        """A Space's runtime as `GET /api/spaces/{id}/runtime` answers it."""
        hardware = {"current": self.hardware, "requested": self.hardware}
        return {"stage": "RUNNING", "hardware": hardware, "gcTimeout": None, "replicas": {}}

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def commit(self, title: str, message: str, files: dict[str, bytes], lfs: set[str]) -> Commit:
        new = Commit(secrets.token_hex(20), title, message, _now(), files, lfs)
        self.commits.append(new)
        return new

    def find(self, revision: str) -> Commit | None:
        if revision in ("main", "refs/heads/main"):
            return self.head
        if (pr := self.pr_of(revision)) is not None:
            return pr.commits[-1]
        every = [*self.commits, *(c for pr in self.prs.values() for c in pr.commits)]
        return next((c for c in reversed(every) if c.sha == revision), None)

    def pr_of(self, revision: str) -> PullRequest | None:
        """The pull request `refs/pr/N` names, if it exists."""
        m = re.fullmatch(r"refs/pr/(\d+)", revision)
        return self.prs.get(int(m[1])) if m else None

    def open_pr(self, title: str, message: str, base: Commit, files: dict[str, bytes],
                lfs: set[str]) -> PullRequest:  # fmt: skip
        pr = PullRequest(len(self.prs) + 1, title, _now(), base)
        pr.commits.append(Commit(secrets.token_hex(20), title, message, _now(), files, lfs))
        self.prs[pr.num] = pr
        return pr

    def history(self, upto: Commit) -> list[Commit]:
        """The commits up to `upto`, oldest first: on main, or main to a PR's base then the PR's."""
        if upto in self.commits:
            return self.commits[: self.commits.index(upto) + 1]
        pr = next(pr for pr in self.prs.values() if upto in pr.commits)
        on_main = self.commits[: self.commits.index(pr.base) + 1]
        return [*on_main, *pr.commits[: pr.commits.index(upto) + 1]]

    def last_commit_for(self, path: str, upto: Commit) -> Commit:
        """The newest commit (up to `upto`) that changed `path` (a file or a folder)."""
        history = self.history(upto)

        def view(c: Commit) -> dict[str, bytes]:
            return {p: b for p, b in c.files.items() if p == path or p.startswith(path + "/")}

        for newer, older in zip(reversed(history), reversed([None, *history[:-1]]), strict=True):
            if older is None or view(newer) != view(older):
                return newer
        return upto


@dataclass
class RecordedRequest:
    method: str
    path: str  # URL-decoded path, without query
    query: dict[str, list[str]]
    has_auth: bool  # an Authorization header was present
    status: int = 0
    range: str | None = None
    injected: bool = False  # answered by fail_next/down rather than by the endpoint


@dataclass
class _Fault:
    remaining: int
    status: int
    retry_after: float | None
    methods: set[str] | None
    path_contains: str | None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json(data: object, status: int = 200, **headers: str) -> Response:
    headers.setdefault("Content-Type", "application/json; charset=utf-8")
    return Response(status, json.dumps(data).encode(), headers)


def _error(status: int, message: str, code: str | None = None, **headers: str) -> Response:
    """An error answer the way the Hub sends it: JSON body plus X-Error-* headers."""
    headers["X-Error-Message"] = message
    if code:
        headers["X-Error-Code"] = code
    return _json({"error": message}, status, **headers)


class _Request:
    def __init__(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        split = urlsplit(handler.path)
        self.method = handler.command
        self.raw_path = split.path
        self.query = parse_qs(split.query)
        self.headers = handler.headers
        self.body = body
        auth = handler.headers.get("Authorization", "")
        self.token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        self.has_auth = bool(auth)

    def flag(self, name: str) -> bool:
        return self.query.get(name, ["false"])[-1].lower() in ("1", "true")

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


_REPO_API = re.compile(
    r"^/api/(?P<type>model|dataset|space)s/(?P<ns>[^/]+)/(?P<name>[^/]+)"
    r"(?:/(?P<action>revision|tree|preupload|commit|commits|paths-info|refs|settings|discussions|secrets|variables|hardware|runtime)(?:/(?P<rest>.*))?)?$"
)
_LFS_BATCH = re.compile(
    r"^/(?:(?P<type>dataset|space)s/)?(?P<ns>[^/]+)/(?P<name>[^/]+)\.git/info/lfs/objects/batch$"
)
_LFS_UPLOAD = re.compile(r"^/lfs-upload/(?P<oid>[0-9a-f]{64})$")
_RESOLVE = re.compile(
    r"^/(?:(?P<type>dataset|space)s/)?(?P<ns>[^/]+)/(?P<name>[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"
)


class HubServer:
    """In-memory Hub speaking the HTTP protocol of huggingface.co, served from a thread."""

    def __init__(self, port: int = PORT, tokens: set[str] | None = None) -> None:
        self.port = port
        self.tokens: set[str] = {TEST_TOKEN} if tokens is None else set(tokens)
        self.user = TEST_USER
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}  # sha256 -> content, shared by all repos
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._down = False
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle and test controls -------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubServer:
        global _reserved  # the import-time socket is handed over once
        sock, _reserved = (_reserved, None) if self.port == PORT and _reserved else (None, None)
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler, bind_and_activate=False)
        httpd.socket.close()
        httpd.socket = sock
        httpd.server_activate()
        httpd.hub = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="hubserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def reset(self) -> None:
        """Drop all repos, faults, the request log and the down state."""
        with self._lock:
            self.repos.clear()
            self.lfs_objects.clear()
            self.requests.clear()
            self._faults.clear()
            self._down = False

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        retry_after: float | None = None,
        methods: set[str] | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer `status` to the next `n` requests matching `methods` and `path_contains`."""
        methods = {m.upper() for m in methods} if methods else None
        with self._lock:
            self._faults.append(_Fault(n, status, retry_after, methods, path_contains))

    def down(self) -> None:
        """Answer 503 to every request until `up()`."""
        self._down = True

    def up(self) -> None:
        self._down = False

    def files(
        self, repo_id: str, repo_type: str = "dataset", revision: str = "main"
    ) -> dict[str, bytes]:
        """The snapshot of a repo at `revision` (the head of main, `refs/pr/N`), for assertions."""
        with self._lock:
            commit = self.repos[(repo_type, repo_id)].find(revision)
            assert commit is not None, f"no revision {revision} in {repo_type} {repo_id}"
            return dict(commit.files)

    def commit_count(self, repo_id: str, repo_type: str = "dataset") -> int:
        with self._lock:
            return len(self.repos[(repo_type, repo_id)].commits)

    def space_secrets(self, repo_id: str) -> dict[str, str]:
        """A Space's secrets with their values (which the Hub API never gives back)."""
        with self._lock:
            return dict(self.repos[("space", repo_id)].secrets)

    def space_variables(self, repo_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self.repos[("space", repo_id)].variables)

    def space_hardware(self, repo_id: str) -> str:
        with self._lock:
            return self.repos[("space", repo_id)].hardware

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, req: _Request) -> Response:
        record = RecordedRequest(
            req.method,
            unquote(req.raw_path),
            req.query,
            req.has_auth,
            range=req.headers.get("Range"),
        )
        with self._lock:
            self.requests.append(record)
            resp = self._injected(req)
            record.injected = resp is not None
            if resp is None:
                try:
                    resp = self._route(req)
                except (ValueError, KeyError, json.JSONDecodeError) as exc:
                    resp = _error(400, f"Bad request: {exc!r}")
            record.status = resp.status
        return resp

    def _injected(self, req: _Request) -> Response | None:
        if self._down:
            return _error(503, "Service Unavailable")
        if req.raw_path == "/api/agent-harnesses":
            return None  # fetched at most once, at a random moment: never eats a fault
        for fault in self._faults:
            if fault.remaining <= 0:
                continue
            if fault.methods and req.method not in fault.methods:
                continue
            if fault.path_contains and fault.path_contains not in unquote(req.raw_path):
                continue
            fault.remaining -= 1
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            text = RATE_LIMIT_TEXT if fault.status == 429 else _SERVER_ERROR_TEXT
            return _error(fault.status, text, **headers)
        return None

    def _route(self, req: _Request) -> Response:
        path, method = req.raw_path, req.method
        if path == "/api/agent-harnesses":
            return _error(404, "Not Found")
        if req.token is not None and req.token not in self.tokens:
            return _error(401, "Invalid credentials in Authorization header")
        if path in ("/api/repos/create", "/api/repos/delete") and req.token is None:
            return _error(401, "Invalid username or password.")
        plain = {
            ("GET", "/api/whoami-v2"): self.whoami,
            ("POST", "/api/repos/create"): self.create_repo,
            ("DELETE", "/api/repos/delete"): self.delete_repo,
            ("POST", "/api/validate-yaml"): self.validate_yaml,
        }
        if (handler := plain.get((method, path))) is not None:
            return handler(req)
        if m := _REPO_API.match(path):
            return self._repo_api(req, m)
        if method == "PUT" and (m := _LFS_UPLOAD.match(path)):
            return self.lfs_upload(req, m["oid"])
        m = _LFS_BATCH.match(path) if method == "POST" else None
        m = m or (_RESOLVE.match(path) if method in ("GET", "HEAD") else None)
        if m is None:
            return _error(404, f"Not found: {method} {path}")
        repo_type, repo_id = m["type"] or "model", f"{unquote(m['ns'])}/{unquote(m['name'])}"
        if method == "POST":
            return self.lfs_batch(req, repo_type, repo_id)
        return self.resolve(req, repo_type, repo_id, unquote(m["rev"]), unquote(m["path"]))

    def _repo_api(self, req: _Request, m: re.Match[str]) -> Response:
        repo_id = f"{unquote(m['ns'])}/{unquote(m['name'])}"
        action, rest = m["action"], m["rest"] or ""
        rev, _, sub = rest.partition("/")
        rev, sub = unquote(rev) or "main", unquote(sub)
        write = action in ("preupload", "commit", "settings", "secrets", "hardware") or (
            action == "variables" and req.method != "GET"
        )
        if action in ("secrets", "variables", "hardware", "runtime") and m["type"] != "space":
            return _error(404, f"Not found: {req.method} {req.raw_path}")
        repo, denied = self._access(req, m["type"], repo_id, write)
        if denied is not None:
            return denied
        assert repo is not None
        routes = {
            ("GET", None): lambda: self.repo_info(req, repo, "main"),
            ("GET", "revision"): lambda: self.repo_info(req, repo, unquote(rest)),
            ("GET", "tree"): lambda: self.tree(req, repo, rev, sub.strip("/")),
            ("POST", "paths-info"): lambda: self.paths_info(req, repo, rev),
            ("POST", "preupload"): lambda: self.preupload(req, repo, rev),
            ("POST", "commit"): lambda: self.commit(req, repo, rev),
            ("GET", "commits"): lambda: self.list_commits(repo, rev),
            ("GET", "refs"): lambda: self.refs(repo),
            ("PUT", "settings"): lambda: self.settings(req, repo),
            ("GET", "discussions"): lambda: self.discussions(req, repo),
            **self._space_routes(req, repo),
        }
        route = routes.get((req.method, action))
        return route() if route else _error(405, f"{req.method} not allowed on {action}")

    def _access(
        self, req: _Request, repo_type: str, repo_id: str, write: bool
    ) -> tuple[Repo | None, Response | None]:
        """The repo, or the answer the Hub gives when it is missing or hidden from this caller."""
        authed = req.token in self.tokens
        repo = self.repos.get((repo_type, repo_id))
        if write and not authed:
            return None, _error(401, "Invalid username or password.", "RepoNotFound")
        if repo is None or (repo.private and not authed):
            status = 404 if authed else 401
            return None, _error(status, "Repository not found", "RepoNotFound")
        return repo, None

    @staticmethod
    def _revision(repo: Repo, revision: str) -> tuple[Commit | None, Response | None]:
        commit = repo.find(revision)
        if commit is None:
            return None, _error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit, None

    def _repo_url(self, repo_type: str, repo_id: str) -> str:
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        return f"{self.url}/{prefix}{repo_id}"

    # -- endpoints ---------------------------------------------------------------------------

    def whoami(self, req: _Request) -> Response:
        if req.token is None:
            return _error(401, "Invalid username or password.")
        token = {"displayName": "test", "role": "write"}
        return _json(
            {
                "type": "user",
                "id": "0" * 24,
                "name": self.user,
                "fullname": self.user,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": token},
            }
        )

    def create_repo(self, req: _Request) -> Response:
        body = req.json()
        repo_type = body.get("type") or "model"
        repo_id = f"{body.get('organization') or self.user}/{body['name']}"
        if repo_type not in ("model", "dataset", "space"):
            return _error(400, f"Invalid repo type: {repo_type}")
        url = self._repo_url(repo_type, repo_id)
        if (repo_type, repo_id) in self.repos:
            return _json({"error": f"You already created this {repo_type} repo", "url": url}, 409)
        private = body.get("visibility", "private" if body.get("private") else "public") != "public"
        if repo_type == "space" and body.get("sdk") not in ("gradio", "docker", "static"):
            return _error(400, f"Invalid sdk: {body.get('sdk')!r}")
        repo = Repo(repo_type, repo_id, private, _now(), sdk=body.get("sdk"))
        if repo_type == "space":
            repo.secrets = {e["key"]: e["value"] for e in body.get("secrets") or []}
            repo.variables = {e["key"]: e["value"] for e in body.get("variables") or []}
            repo.hardware = body.get("hardware") or repo.hardware
        repo.commit("initial commit", "", {".gitattributes": _GITATTRIBUTES.encode()}, set())
        self.repos[(repo_type, repo_id)] = repo
        return _json({"url": url, "name": repo_id, "id": repo_id})

    def delete_repo(self, req: _Request) -> Response:
        body = req.json()
        repo_id = f"{body.get('organization') or self.user}/{body['name']}"
        key = (body.get("type") or "model", repo_id)
        if self.repos.pop(key, None) is None:
            return _error(404, "Repository not found", "RepoNotFound")
        return _json({})

    def settings(self, req: _Request, repo: Repo) -> Response:
        body = req.json()
        if "private" in body:
            repo.private = bool(body["private"])
        if "visibility" in body:
            repo.private = body["visibility"] != "public"
        return _json({"private": repo.private})

    def validate_yaml(self, req: _Request) -> Response:
        try:
            _card_data(req.json().get("content", "").encode())
        except ValueError as exc:
            return _json({"errors": [{"message": str(exc)}], "warnings": []}, 400)
        return _json({"errors": [], "warnings": []})

    def repo_info(self, req: _Request, repo: Repo, revision: str) -> Response:
        commit, missing = self._revision(repo, revision)
        if commit is None:
            return missing  # type: ignore[return-value]
        blobs = req.flag("blobs")
        siblings: list[dict] = [{"rfilename": p} for p in sorted(commit.files)]
        for sibling in siblings if blobs else []:
            blob = commit.blob(sibling["rfilename"])
            sibling.update(size=blob["size"], blobId=blob["oid"])
            if "lfs" in blob:
                sibling["lfs"] = {
                    "sha256": blob["lfs"]["oid"],
                    "size": blob["size"],
                    "pointerSize": blob["lfs"]["pointerSize"],
                }
        info: dict[str, object] = {
            "_id": hashlib.sha1(repo.id.encode()).hexdigest()[:24],
            "id": repo.id,
            "author": repo.id.split("/")[0],
            "sha": commit.sha,
            "lastModified": commit.date,
            "createdAt": repo.created_at,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(len(b) for b in commit.files.values()),
        }
        try:
            if card := _card_data(commit.files.get("README.md", b"")):
                info["cardData"] = card
        except ValueError:
            pass
        if repo.type == "space":
            subdomain = re.sub(r"[_./]", "-", repo.id.lower())
            info.update(sdk=repo.sdk, subdomain=subdomain, runtime=repo.runtime())
        return _json(info)

    # -- Spaces: secrets, variables, hardware, runtime -------------------------------------

    def _space_routes(self, req: _Request, repo: Repo) -> dict:
        return {
            ("GET", "secrets"): lambda: self._settings_listing(repo.secrets, values=False),
            ("POST", "secrets"): lambda: self._set_setting(req, repo.secrets, values=False),
            ("DELETE", "secrets"): lambda: self._delete_setting(req, repo.secrets, values=False),
            ("GET", "variables"): lambda: self._settings_listing(repo.variables, values=True),
            ("POST", "variables"): lambda: self._set_setting(req, repo.variables, values=True),
            ("DELETE", "variables"): lambda: self._delete_setting(req, repo.variables, True),
            ("POST", "hardware"): lambda: self._request_hardware(req, repo),
            ("GET", "runtime"): lambda: _json(repo.runtime()),
        }

    @staticmethod
    def _settings_listing(settings: dict[str, str], values: bool) -> Response:
        """Variables with their values; secrets by key only, as the Hub answers."""
        listing = {
            key: ({"value": value} if values else {}) | {"updatedAt": _now(), "description": None}
            for key, value in settings.items()
        }
        return _json(listing)

    def _set_setting(self, req: _Request, settings: dict[str, str], values: bool) -> Response:
        body = req.json()
        key, value = body["key"], body["value"]
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            return _error(400, f"Invalid key: {key!r}")
        settings[key] = str(value)
        return self._settings_listing(settings, values)

    def _delete_setting(self, req: _Request, settings: dict[str, str], values: bool) -> Response:
        settings.pop(req.json()["key"], None)
        return self._settings_listing(settings, values)

    @staticmethod
    def _request_hardware(req: _Request, repo: Repo) -> Response:
        flavor = req.json()["flavor"]
        if not isinstance(flavor, str) or not flavor:
            return _error(400, f"Invalid hardware flavor: {flavor!r}")
        repo.hardware = flavor
        return _json(repo.runtime())

    def _entry(self, repo: Repo, commit: Commit, path: str, expand: bool) -> dict | None:
        """A tree entry (file or directory) for `path` at `commit`, None if absent."""
        if path in commit.files:
            entry: dict = {"type": "file", **commit.blob(path), "path": path}
        else:
            prefix = path + "/"
            children = sorted(p for p in commit.files if p.startswith(prefix))
            if not children:
                return None
            tree = "".join(f"{p}:{git_blob_sha(commit.files[p])}\n" for p in children)
            entry = {
                "type": "directory",
                "oid": hashlib.sha1(tree.encode()).hexdigest(),
                "size": 0,
                "path": path,
            }
        if expand:
            last = repo.last_commit_for(path, commit)
            entry["lastCommit"] = {"id": last.sha, "title": last.title, "date": last.date}
            if entry["type"] == "file":
                entry["securityFileStatus"] = {
                    "status": "safe",
                    "avScan": {"virusFound": False},
                    "pickleImportScan": None,
                }
        return entry

    def tree(self, req: _Request, repo: Repo, revision: str, path: str) -> Response:
        commit, missing = self._revision(repo, revision)
        if commit is None:
            return missing  # type: ignore[return-value]
        prefix = f"{path}/" if path else ""
        if path and (path in commit.files or not any(p.startswith(prefix) for p in commit.files)):
            message = f'{path} does not exist on "{revision}"'
            return _error(404, message, "EntryNotFound", **{"X-Repo-Commit": commit.sha})
        names: set[str] = set()
        for file_path in commit.files:
            if not file_path.startswith(prefix):
                continue
            parts = file_path[len(prefix) :].split("/")
            depth = len(parts) if req.flag("recursive") else 1
            names.update(prefix + "/".join(parts[: i + 1]) for i in range(depth))
        expand = req.flag("expand")
        entries = [self._entry(repo, commit, name, expand) for name in sorted(names)]
        return _json(entries)

    def paths_info(self, req: _Request, repo: Repo, revision: str) -> Response:
        commit, missing = self._revision(repo, revision)
        if commit is None:
            return missing  # type: ignore[return-value]
        if "json" in req.headers.get("Content-Type", ""):
            body = req.json()
            paths, expand = body.get("paths", []), bool(body.get("expand"))
        else:
            form = parse_qs(req.body.decode())
            paths = form.get("paths", [])
            expand = form.get("expand", ["false"])[-1].lower() in ("1", "true")
        entries = [self._entry(repo, commit, p.strip("/"), expand) for p in paths]
        return _json([e for e in entries if e is not None])

    def preupload(self, req: _Request, repo: Repo, revision: str) -> Response:
        commit, missing = self._revision(repo, revision)
        if commit is None:
            return missing  # type: ignore[return-value]
        answer = []
        for item in req.json().get("files", []):
            path, sample = item["path"], base64.b64decode(item.get("sample", ""))
            lfs = commit.is_lfs_candidate(path, int(item.get("size", 0)), sample)
            oid = None  # for an existing file: what the client compares its local oid with
            if (existing := commit.files.get(path)) is not None:
                lfs_oid = hashlib.sha256(existing).hexdigest()
                oid = lfs_oid if path in commit.lfs else git_blob_sha(existing)
            mode = "lfs" if lfs else "regular"
            answer.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        return _json({"files": answer, "commitOid": commit.sha})

    def lfs_batch(self, req: _Request, repo_type: str, repo_id: str) -> Response:
        """git-lfs batch API: where to PUT each object (nothing for those already stored)."""
        _repo, denied = self._access(req, repo_type, repo_id, write=True)
        if denied is not None:
            return denied
        objects = []
        for obj in req.json().get("objects", []):
            answer = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.lfs_objects:
                href = f"{self.url}/lfs-upload/{obj['oid']}"  # like a presigned URL: no auth
                answer["actions"] = {"upload": {"href": href, "header": {}}}
            objects.append(answer)
        return _json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def lfs_upload(self, req: _Request, oid: str) -> Response:
        if hashlib.sha256(req.body).hexdigest() != oid:
            return _error(400, "Uploaded content does not match the sha256 oid")
        self.lfs_objects[oid] = req.body
        return Response(200)

    def commit(self, req: _Request, repo: Repo, revision: str) -> Response:
        """A commit on the head of main, on a PR (`refs/pr/N`), or (`create_pr`) a new PR."""
        create_pr, pr = req.flag("create_pr"), repo.pr_of(revision)
        if create_pr and repo.find(revision) is not repo.head:
            return _error(400, f"A pull request is opened against main, not {revision}")
        tip: Commit | None = pr.commits[-1] if pr is not None else repo.head
        if not create_pr and repo.find(revision) is not tip:
            return _error(400, f"Can only commit to the head of main or of a PR, not {revision}")
        lines = [json.loads(line) for line in req.body.splitlines() if line.strip()]
        header = next((item["value"] for item in lines if item["key"] == "header"), {})
        parent = header.get("parentCommit")
        if create_pr:  # the PR starts from the parent commit, when one is given
            tip = repo.find(parent) if parent is not None else repo.head
            if tip is None or tip not in repo.commits:
                return _error(404, f"Invalid rev id: {parent}", "RevisionNotFound")
        elif tip is None or (parent is not None and parent != tip.sha):
            return _error(412, "A commit has happened since. Please refresh and try again.")
        files, lfs = dict(tip.files), set(tip.lfs)
        for item in lines:
            failed = self._apply_operation(files, lfs, item["key"], item["value"])
            if failed is not None:
                return failed
        title, message = header.get("summary", ""), header.get("description", "")
        pr_url = None
        if create_pr:
            pr = repo.open_pr(title, message, tip, files, lfs)
            new = pr.commits[-1]
            pr_url = f"{self._repo_url(repo.type, repo.id)}/discussions/{pr.num}"
        elif pr is not None:
            new = Commit(secrets.token_hex(20), title, message, _now(), files, lfs)
            pr.commits.append(new)
        else:
            new = repo.commit(title, message, files, lfs)
        url = f"{self._repo_url(repo.type, repo.id)}/commit/{new.sha}"
        return _json(
            {
                "success": True,
                "commitOid": new.sha,
                "commitUrl": url,
                "hookOutput": "",
                "commitMessage": new.title,
                "pullRequestUrl": pr_url,
            }
        )

    def discussions(self, req: _Request, repo: Repo) -> Response:
        """The repo's pull requests (it has no other discussions), newest first, one page."""
        kind = req.query.get("type", ["all"])[-1]
        status = req.query.get("status", ["all"])[-1]
        listed = [
            pr for pr in sorted(repo.prs.values(), key=lambda pr: -pr.num)
            if kind in ("all", "pull_request") and status in ("all", pr.status)
        ]  # fmt: skip
        found = [
            {"num": pr.num, "title": pr.title, "status": pr.status, "createdAt": pr.created_at,
             "author": {"name": self.user}, "isPullRequest": True,
             "repo": {"name": repo.id, "type": repo.type}}
            for pr in listed
        ]  # fmt: skip
        return _json({"discussions": found, "count": len(found), "start": 0,
                      "numClosedDiscussions": 0})  # fmt: skip

    def _apply_operation(
        self, files: dict[str, bytes], lfs: set[str], key: str, value: dict
    ) -> Response | None:
        """Apply one ndjson commit line to `files`; an error answer if it cannot be applied."""
        path = value.get("path", "")
        if key == "file":
            raw = value["content"]
            binary = value.get("encoding") == "base64"
            files[path] = base64.b64decode(raw) if binary else raw.encode()
            lfs.discard(path)
        elif key == "lfsFile":
            if value["oid"] not in self.lfs_objects:
                return _error(400, f"LFS object {value['oid']} was never uploaded")
            files[path] = self.lfs_objects[value["oid"]]
            lfs.add(path)
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                return _error(404, "A file with this name doesn't exist", "EntryNotFound")
        elif key == "deletedFolder":
            for name in [p for p in files if p.startswith(path.rstrip("/") + "/")]:
                del files[name]
        elif key != "header":
            return _error(400, f"Unsupported commit operation {key!r}")
        return None

    def list_commits(self, repo: Repo, revision: str) -> Response:
        commit, missing = self._revision(repo, revision)
        if commit is None:
            return missing  # type: ignore[return-value]
        history = repo.history(commit)
        return _json(
            [
                {
                    "id": c.sha,
                    "title": c.title,
                    "message": c.message,
                    "date": c.date,
                    "authors": [{"user": self.user}],
                }
                for c in reversed(history)
            ]
        )

    def refs(self, repo: Repo) -> Response:
        main = {"name": "main", "ref": "refs/heads/main", "targetCommit": repo.head.sha}
        return _json({"branches": [main], "converts": [], "tags": []})

    def resolve(
        self, req: _Request, repo_type: str, repo_id: str, revision: str, path: str
    ) -> Response:
        repo, denied = self._access(req, repo_type, repo_id, write=False)
        if repo is None:
            return denied  # type: ignore[return-value]
        commit, missing = self._revision(repo, revision)
        if commit is None:
            return missing  # type: ignore[return-value]
        data = commit.files.get(path)
        if data is None:
            return _error(404, "Entry not found", "EntryNotFound", **{"X-Repo-Commit": commit.sha})
        blob = commit.blob(path)
        etag = blob["lfs"]["oid"] if "lfs" in blob else blob["oid"]
        headers = {
            "X-Repo-Commit": commit.sha,
            "ETag": f'"{etag}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if "lfs" in blob:  # the Hub redirects LFS files to a CDN; served inline here
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))})
        spec = req.headers.get("Range")
        if spec is None or req.method == "HEAD":
            return Response(200, data, headers)
        span = _parse_range(spec, len(data))
        if span is None:
            headers["Content-Range"] = f"bytes */{len(data)}"
            return Response(416, b"", headers)
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return Response(206, data[start : end + 1], headers)


def _parse_range(spec: str, size: int) -> tuple[int, int] | None:
    """`bytes=a-b`, `bytes=a-` or `bytes=-n` as an inclusive (start, end); None if unsatisfiable."""
    first, last = spec.removeprefix("bytes=").split(",")[0].strip().split("-")
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start < size and start <= end else None


def _card_data(readme: bytes) -> dict | None:
    """The YAML front matter of a README.md, None without one; ValueError if it is invalid."""
    import yaml

    text = readme.decode("utf-8", errors="replace")
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, flags=re.DOTALL)
    if not match:
        return None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise ValueError(f"Invalid YAML in README.md: {exc}") from exc
    if data is not None and not isinstance(data, dict):
        raise ValueError("README.md metadata must be a YAML mapping")
    return data or None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hubserver"

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        resp = self.server.hub.handle(_Request(self, self._body()))  # type: ignore[attr-defined]
        self.send_response(resp.status)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest output clean; see HubServer.requests


def _clear_client_caches() -> None:
    """Forget in-process client caches that would outlive a server reset."""
    if "huggingface_hub" in sys.modules:
        from huggingface_hub import HfFileSystem

        HfFileSystem.clear_instance_cache()


class _Session:
    """The session's server, shared by every registration of the `hub_server` fixture."""

    server: HubServer | None = None
    users = 0


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubServer]:
    """One Hub test server for the whole session, on the port HF_ENDPOINT points at.

    Safe when both conftest.py and a test module import the fixture (two registrations).
    """
    if _Session.server is None:
        _Session.server = HubServer().start()
    server = _Session.server
    _Session.users += 1
    yield server
    _Session.users -= 1
    if _Session.users == 0:
        server.stop()
        _Session.server = None


@pytest.fixture
def hub(hub_server: HubServer) -> Iterator[HubServer]:
    """The session's Hub test server, emptied: no repos, faults or recorded requests."""
    hub_server.reset()
    _clear_client_caches()
    yield hub_server
    hub_server.up()
