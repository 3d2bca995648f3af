"""Concurrent ``GET {url}/health`` of the workers with aiohttp; never raises.

The Hub token goes only to ``*.hf.space`` URLs (private Spaces need it), never to other hosts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from autocoder.apps.dashboard.health import Ping

TIMEOUT_S = 3.0


def _moment(value: Any) -> datetime | None:
    """``last_completed_at`` as sent by a worker: epoch seconds (or an ISO string)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def auth_headers(url: str, token: str | None) -> dict[str, str]:
    """The Hub token for a private Space (``*.hf.space``), nothing for any other host."""
    host = urlsplit(url).hostname or ""
    return {"Authorization": f"Bearer {token}"} if token and host.endswith(".hf.space") else {}


def _answer(body: Any) -> Ping:
    if not isinstance(body, dict):
        return Ping(ok=False, error="the answer is not a JSON object")
    state = body.get("state")
    return Ping(
        ok=True,
        last_completed_at=_moment(body.get("last_completed_at")),
        state=state if isinstance(state, str) else None,
    )


async def ping(
    session: aiohttp.ClientSession, url: str, timeout_s: float = TIMEOUT_S, token: str | None = None
) -> Ping:
    """One worker's ``/health``: ok with its ``last_completed_at``, or why it failed."""
    target = url.rstrip("/") + "/health"
    try:
        async with session.get(
            target, headers=auth_headers(url, token), timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            if response.status != 200:
                return Ping(ok=False, error=f"HTTP {response.status}")
            body = await response.json(content_type=None)
    except TimeoutError:
        return Ping(ok=False, error=f"no answer within {timeout_s:g} s")
    except aiohttp.ClientError as e:
        return Ping(ok=False, error=f"{type(e).__name__}: {e}"[:200])
    except ValueError:
        return Ping(ok=False, error="the answer is not JSON")
    except Exception as e:  # a ping must never break a refresh
        return Ping(ok=False, error=type(e).__name__)
    return _answer(body)


async def ping_all(
    urls: Mapping[str, str], timeout_s: float = TIMEOUT_S, token: str | None = None
) -> dict[str, Ping]:
    """Every worker's ``/health`` at once, by worker name; at most ``timeout_s`` in all."""
    if not urls:
        return {}
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(
            *(ping(session, url, timeout_s, token) for url in urls.values())
        )
    return dict(zip(urls, answers, strict=True))
