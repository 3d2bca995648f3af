"""One Hub call of ``deploy``, retried while the Hub is busy, else one clear DeployError.

A 429 or 5xx answer, or no answer, is tried again (waiting the longer of ``Retry-After`` and a
backoff) up to :data:`ATTEMPTS` times: a rejected commit leaves the repo as it was, so sending
it again is safe. A refused token is not retried. ``RepositoryNotFoundError`` goes through
untouched: the planner asks "is it there?" with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from tenacity import RetryCallState, Retrying, stop_after_attempt

from autocoder.errors import DeployError, HubUnavailable
from autocoder.store.hub_errors import NETWORK_ERRORS, retry_after_s
from autocoder.store.retry import RetryAfterOrBackoff, failure, retry_outages

T = TypeVar("T")
log = logging.getLogger("autocoder.deploy")
ATTEMPTS = 4
FIRST_WAIT_S = 1.0
MAX_WAIT_S = 60.0
HANDLED: tuple[type[Exception], ...] = (HfHubHTTPError, *NETWORK_ERRORS)


def _classify(error: Exception, what: str) -> Exception:
    """HubUnavailable (retry) or DeployError (give up) for a failed call about ``what``."""
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        status = error.response.status_code
        if status in (401, 403):
            return DeployError(
                f"the Hub refused {what} (HTTP {status}); HF_TOKEN needs write access to "
                "your namespace: make one at https://huggingface.co/settings/tokens"
            )
        if status == 402:
            return _payment_needed(what)
        if status == 429 or status >= 500:
            retry_s = retry_after_s(error.response.headers)
            return HubUnavailable(f"the Hub answered HTTP {status} for {what}", retry_s)
        detail = error.server_message or ""
        return DeployError(f"the Hub answered HTTP {status} for {what}: {detail}".rstrip(": "))
    if isinstance(error, NETWORK_ERRORS):
        return HubUnavailable(f"the Hub could not be reached for {what} ({type(error).__name__})")
    return error


def _payment_needed(what: str) -> DeployError:
    """HTTP 402: a paid plan to create a Gradio Space, else billing for paid hardware."""
    if what.startswith("Space "):  # the create call
        return DeployError(
            f"the Hub asks for a paid plan to create {what} (HTTP 402): Gradio Spaces need "
            "PRO (or Team/Enterprise for an organisation); see DEPLOYMENT_GUIDE.md"
        )
    return DeployError(
        f"the Hub asks for payment for {what} (HTTP 402): paid hardware needs a billing method "
        "on the account (https://huggingface.co/settings/billing), or deploy with --hardware "
        "cpu-basic"
    )


def _too_long_to_wait(error: Exception) -> Exception:
    """A busy Hub that asks for a wait longer than :data:`MAX_WAIT_S` (the commit rate limit
    can ask for most of an hour): say when to run again instead of sleeping silently."""
    asked = error.retry_after_s if isinstance(error, HubUnavailable) else None
    if asked is None or asked <= MAX_WAIT_S:
        return error
    return DeployError(
        f"{error}; it asks to wait {asked:.0f} s: run the same `autocoder deploy` again after "
        "that, it does only what is still missing"
    )


def _say_waiting(retry_state: RetryCallState) -> None:
    wait_s = retry_state.next_action.sleep if retry_state.next_action else 0.0
    log.warning("%s; trying again in %.0f s", failure(retry_state), wait_s)


def hub_call(call: Callable[[], T], what: str, attempts: int = ATTEMPTS) -> T:
    """``call()``, retried on outages; the last outage becomes a DeployError naming ``what``."""
    retrying = Retrying(
        retry=retry_outages,
        wait=RetryAfterOrBackoff(FIRST_WAIT_S, MAX_WAIT_S),
        stop=stop_after_attempt(attempts),
        before_sleep=_say_waiting,
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                try:
                    return call()
                except RepositoryNotFoundError:
                    raise
                except HANDLED as e:
                    raise _too_long_to_wait(_classify(e, what)) from None
    except HubUnavailable as e:
        raise DeployError(
            f"{e} after {attempts} attempts; run the same `autocoder deploy` again later: it "
            "does only what is still missing"
        ) from None
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
