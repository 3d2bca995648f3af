"""Who may start and stop a worker.

- An admin token is set (``AUTOCODER_ADMIN_TOKEN``): it is required on every route, on a Space or
  not; on a Space the owner's Hugging Face login also counts.
- No admin token, on a Space: only the owner's login.
- No admin token, off a Space: open, but only while the app is bound to a loopback address;
  :func:`check_bind` refuses to start one bound beyond loopback.
"""

from __future__ import annotations

import hmac
import ipaddress

from autocoder.errors import ConfigError, Unauthorized
from autocoder.settings import Settings

LOCAL_USER = "local user"
ADMIN = "admin token"


def space_owner(settings: Settings) -> str | None:
    if settings.space_author_name:
        return settings.space_author_name
    return settings.space_id.split("/")[0] if settings.space_id else None


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.x.y.z`` and ``::1``; False for ``0.0.0.0``, names, others."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_required(settings: Settings) -> bool:
    """Whether the controls ask for the admin token (the page then shows its box)."""
    return settings.admin_token is not None


def controls_rule(settings: Settings) -> str:
    """One sentence for the page: who may use the controls of this app."""
    owner = space_owner(settings)
    if token_required(settings):
        also = f", or sign in with Hugging Face as the Space owner ({owner})" if owner else ""
        return f"Start and stop need the admin token{also}."
    if settings.on_space:
        return f"Start and stop are for the Space owner ({owner}): sign in with Hugging Face."
    return (
        f"Start and stop are open: this app is bound to {settings.bind_host} (this machine only)."
    )


def check_bind(settings: Settings) -> None:
    """Refuse to serve open controls beyond loopback: one clear error naming the fix."""
    if token_required(settings) or settings.on_space or is_loopback(settings.bind_host):
        return
    raise ConfigError(
        f"AUTOCODER_HOST={settings.bind_host!r} (or --host) would let anyone on the network start "
        "and stop the workers: set AUTOCODER_ADMIN_TOKEN to a long random value, or bind to "
        "127.0.0.1"
    )


def _token_matches(settings: Settings, given: str | None) -> bool:
    expected = settings.admin_token.get_secret_value() if settings.admin_token else ""
    return bool(expected and given) and hmac.compare_digest(
        (given or "").encode(), expected.encode()
    )


def _refusal(settings: Settings, actions: str = "start and stop") -> Unauthorized:
    owner = space_owner(settings)
    if token_required(settings) and settings.on_space:
        return Unauthorized(
            f"{actions} need the admin token (the AUTOCODER_ADMIN_TOKEN secret of this Space) "
            f"or the Hugging Face login of the Space owner ({owner})"
        )
    if token_required(settings):
        return Unauthorized(
            f"{actions} need the admin token: enter the value of AUTOCODER_ADMIN_TOKEN in the "
            "Admin token box (scripts pass it as the first argument of the endpoint, or as "
            "'Authorization: Bearer TOKEN' over HTTP)"
        )
    if settings.on_space:
        return Unauthorized(
            f"{actions} are for the Space owner ({owner}): sign in with Hugging Face as the "
            "owner, or add an AUTOCODER_ADMIN_TOKEN secret to this Space"
        )
    return Unauthorized(
        f"{actions} are closed: this app is bound to {settings.bind_host} (AUTOCODER_HOST) "
        "without an admin token; set AUTOCODER_ADMIN_TOKEN and restart"
    )


def authorize(
    settings: Settings, admin_token: str | None, username: str | None,
    actions: str = "start and stop",
) -> str:  # fmt: skip
    """Return who is acting, or raise Unauthorized naming what would be accepted.

    ``username`` is the Hugging Face login; it counts only on a Space (Gradio mocks a login
    locally, so off a Space it proves nothing).
    """
    if _token_matches(settings, admin_token):
        return ADMIN
    owner = space_owner(settings)
    if settings.on_space and username and owner and username == owner:
        return username
    if not (token_required(settings) or settings.on_space) and is_loopback(settings.bind_host):
        return LOCAL_USER
    raise _refusal(settings, actions)
