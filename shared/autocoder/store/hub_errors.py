"""What a failed Hub call means: try again later (:class:`HubUnavailable`) or fix something.

Shared by the push side (:mod:`autocoder.store.hub`) and the read side
(:mod:`autocoder.store.dataset`), so both tell an outage, a rate limit and a refused token apart
the same way, and both carry the Hub's ``Retry-After`` to whoever waits.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import httpx2
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from autocoder.errors import HubUnavailable, StoreError

# What a Hub call raises when the Hub answers badly or not at all. huggingface_hub 2.x speaks
# httpx2 (its ConnectError is neither an httpx error nor an OSError); httpx is for other clients.
NETWORK_ERRORS: tuple[type[Exception], ...] = (httpx2.HTTPError, httpx.HTTPError, OSError)


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """The seconds a ``Retry-After`` header asks for; None when it is missing or a date."""
    retry = headers.get("Retry-After")
    return float(retry) if retry and retry.replace(".", "", 1).isdigit() else None


def _http_failure(error: HfHubHTTPError, repo_id: str) -> StoreError:
    assert error.response is not None
    status = error.response.status_code
    if status in (401, 403):
        return StoreError(
            f"the Hub refused access to {repo_id!r} (HTTP {status}); give HF_TOKEN write "
            "access to it"
        )
    retry_s = retry_after_s(error.response.headers)
    if status == 429 or status >= 500:
        return HubUnavailable(f"the Hub answered HTTP {status} for {repo_id!r}", retry_s)
    return StoreError(f"the Hub answered HTTP {status} for {repo_id!r}")


def hub_failure(error: Exception, repo_id: str) -> StoreError:
    """Turn a client error into HubUnavailable (try again later) or StoreError (fix something)."""
    if isinstance(error, RepositoryNotFoundError):
        return StoreError(
            f"dataset repo {repo_id!r} was not found or the token cannot see it; check HF_USERNAME "
            "or AUTOCODER_HUB_REPO, and that HF_TOKEN has write access"
        )
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        return _http_failure(error, repo_id)
    if isinstance(error, OSError) and error.filename:  # a local file, e.g. a full disk: not the Hub
        return StoreError(
            f"{error.filename} could not be written while syncing {repo_id!r}: "
            f"{error.strerror or error}; free space or fix the folder (AUTOCODER_DATA_DIR)"
        )
    if isinstance(error, NETWORK_ERRORS):
        return HubUnavailable(
            f"the Hub could not be reached for {repo_id!r} ({type(error).__name__}: {error})"
        )
    return StoreError(
        f"unexpected error talking to the Hub about {repo_id!r}: {type(error).__name__}"
    )


def read_failure(error: Exception, repo_id: str) -> StoreError:
    """``hub_failure`` of the HTTP error behind a "not in the local cache" error, if any.

    A download that cannot reach the Hub raises ``LocalEntryNotFoundError`` (a FileNotFoundError)
    with the HTTP error as its cause: that cause says whether to wait or to fix the token.
    """
    cause = error.__cause__
    return hub_failure(cause if isinstance(cause, HfHubHTTPError) else error, repo_id)
