"""The one way autocoder makes a Hub client: with time limits on every request.

huggingface_hub 2.x sends its requests with no timeout at all. A Hub (or a proxy in front of it)
that takes the connection and never answers would then hold the push thread for ever, and the
shutdown that waits for that thread with it. :func:`hub_api` installs, once per process, a client
factory that keeps the library's own client and hooks and adds the limits below; a request that
runs out of time is an ``httpx2.TimeoutException``, which the store treats as an outage
(:data:`~autocoder.store.hub_errors.NETWORK_ERRORS`): retried later, nothing lost.
"""

from __future__ import annotations

import threading

import httpx2
from huggingface_hub import HfApi, set_client_factory
from huggingface_hub.utils._http import default_client_factory  # not re-exported; pinned <3

CONNECT_TIMEOUT_S = 15.0
READ_TIMEOUT_S = 120.0  # between two chunks of an answer, not the whole download

_installed = threading.Event()
_lock = threading.Lock()


def _bounded_client() -> httpx2.Client:
    client = default_client_factory()
    client.timeout = httpx2.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    return client


def bound_hub_requests() -> None:
    """Give every request of huggingface_hub (and of datasets, which uses it) a time limit."""
    with _lock:
        if not _installed.is_set():
            set_client_factory(_bounded_client)
            _installed.set()


def hub_api(token: str | None = None, endpoint: str | None = None) -> HfApi:
    """An ``HfApi`` whose requests cannot hang (see the module docstring)."""
    bound_hub_requests()
    return HfApi(endpoint=endpoint, token=token)
