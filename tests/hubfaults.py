"""Hub faults that ``HubServer.fail_next``/``down`` cannot give, and a request log with times.

:class:`HubFaults` wraps a running :class:`hubserver.HubServer`'s ``handle`` (install it with
``monkeypatch.setattr(hub, "handle", faults.handle)``, so the fixture gets the server back as it
was). It timestamps every request on arrival (``Seen.at``, ``time.monotonic()`` of the test
process): a test reads how long a worker waited from the server's side, never from its own
clock. It can answer the first request of each push (``/preupload/``) with a planned fault:

- ``"500"``: the Hub's internal error; ``"429"``: the commit rate limit with ``Retry-After``;
- ``"drop"``: no answer for ``stall_s``, then the connection is closed (a load balancer's idle
  timeout: the client sees a read that ends without a response);
- ``"504"``: no answer for ``stall_s``, then a gateway timeout.

And it can SIGKILL a worker when its commit arrives, before the Hub applies it (the commit never
lands) or after (it landed, the worker never heard).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from hubserver import RATE_LIMIT_TEXT, HubServer, Response

PUSH_START = "/preupload/"  # the first request of every create_commit
COMMIT = "/commit/"


@dataclass
class Seen:
    """One request as the Hub saw it."""

    at: float  # time.monotonic() when it arrived
    method: str
    path: str
    status: int = 0  # 0: no answer (dropped)
    retry_after: float | None = None
    fault: str | None = None


def _answer(status: int, message: str, **headers: str) -> Response:
    headers |= {"Content-Type": "application/json", "X-Error-Message": message}
    return Response(status, json.dumps({"error": message}).encode(), headers)


class HubFaults:
    """A wrapper of ``hub.handle``: logs, injects planned push faults, kills at a commit."""

    def __init__(self, hub: HubServer, retry_after_s: float = 6.0, stall_s: float = 1.0) -> None:
        self._handle = hub.handle
        self.retry_after_s, self.stall_s = retry_after_s, stall_s
        self.seen: list[Seen] = []
        self.plan: deque[str] = deque()  # one fault per push attempt, in order
        self.cycle: tuple[str, ...] = ()  # or: these in turn, until ``cycle_until``
        self.cycle_until = 0.0
        self._turn = 0
        self._kill: tuple[Callable[[], None], bool] | None = None
        self.killed = threading.Event()
        self._lock = threading.Lock()

    def arm_kill(self, kill: Callable[[], None], before: bool) -> None:
        """Call ``kill`` at the next commit, ``before`` the Hub applies it or after."""
        self.killed.clear()
        self._kill = (kill, before)

    def faults(self) -> list[Seen]:
        return [s for s in self.seen if s.fault]

    def pushes(self) -> list[Seen]:
        return [s for s in self.seen if PUSH_START in s.path]

    def waits(self) -> list[tuple[str, float, float | None]]:
        """(fault, seconds until the worker's next push, Retry-After asked) for each fault."""
        pushes = self.pushes()
        return [
            (seen.fault, pushes[i + 1].at - seen.at, seen.retry_after)
            for i, seen in enumerate(pushes[:-1])
            if seen.fault
        ]

    def pushed_after_faults(self) -> bool:
        """True once a commit succeeded after the last fault."""
        last = max((s.at for s in self.faults()), default=None)
        return last is not None and any(
            s.at > last and s.status == 200 and COMMIT in s.path for s in self.seen
        )

    def _planned(self, seen: Seen) -> str | None:
        if PUSH_START not in seen.path:
            return None
        with self._lock:
            if self.plan:
                return self.plan.popleft()
            if self.cycle and seen.at < self.cycle_until:
                self._turn += 1
                return self.cycle[(self._turn - 1) % len(self.cycle)]
        return None

    def handle(self, req: Any) -> Response:  # hubserver's request
        seen = Seen(time.monotonic(), req.method, unquote(req.raw_path))
        with self._lock:
            self.seen.append(seen)
        seen.fault = self._planned(seen)
        if seen.fault == "drop":
            time.sleep(self.stall_s)
            raise ConnectionAbortedError("hubfaults: dropped without an answer")
        if seen.fault == "504":
            time.sleep(self.stall_s)
            resp = _answer(504, "Gateway Timeout")
        elif seen.fault == "429":
            wait = f"{self.retry_after_s:g}"
            resp = _answer(429, RATE_LIMIT_TEXT, **{"Retry-After": wait})
        elif seen.fault == "500":
            resp = _answer(500, "Internal Error - We're working hard to fix this")
        else:
            resp = self._commit(req, seen)
        seen.status = resp.status
        value = resp.headers.get("Retry-After")
        seen.retry_after = float(value) if value else None
        return resp

    def _commit(self, req: Any, seen: Seen) -> Response:
        armed = self._kill if COMMIT in seen.path and seen.method == "POST" else None
        if armed is None:
            return self._handle(req)
        self._kill = None
        kill, before = armed
        if before:
            kill()
            self.killed.set()
            return _answer(500, "hubfaults: the worker was killed before this commit")
        resp = self._handle(req)
        kill()
        self.killed.set()
        return resp
