"""Who may start and stop a worker: anyone locally; on a Space, the admin token or the owner."""

from __future__ import annotations

import hmac
import os

from autocoder.errors import Unauthorized
from autocoder.settings import Settings


def space_owner(settings: Settings) -> str | None:
    owner = os.environ.get("SPACE_AUTHOR_NAME")
    if owner:
        return owner
    return settings.space_id.split("/")[0] if settings.space_id else None


def authorize(settings: Settings, admin_token: str | None, username: str | None) -> str:
    """Return who is acting, or raise Unauthorized. Open locally; guarded on a Space."""
    if not settings.on_space:
        return "local user"
    expected = settings.admin_token.get_secret_value() if settings.admin_token else None
    if expected and admin_token and hmac.compare_digest(admin_token.encode(), expected.encode()):
        return "admin token"
    owner = space_owner(settings)
    if username and owner and username == owner:
        return username
    raise Unauthorized(
        "start and stop are for the Space owner: sign in with Hugging Face as the owner, or enter "
        "the admin token (AUTOCODER_ADMIN_TOKEN secret of this Space)"
    )
