"""Which datasets the dashboard reads, where, and which ``/health`` URLs it pings.

Local mode (no Hub settings): ``<data-dir>/<dataset>`` folders, as absolute paths. Hub mode
(``HF_TOKEN`` with ``HF_USERNAME``): repos ``{HF_USERNAME}/<dataset>``. Worker URLs come from
``AUTOCODER_WORKER_URLS`` (``analysis=http://host:7861,test-planning=...``) or, in Hub mode,
from the Space names: ``https://{user}-{space}.hf.space``. A relative location is a Hub repo id.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autocoder.apps.dashboard.model import WorkerSource
from autocoder.errors import ConfigError
from autocoder.schema import FINDINGS, SPECS, DatasetConfig
from autocoder.settings import Settings
from autocoder.store.tail import DatasetTail, HubTailSource, LocalTailSource

Project = Callable[[dict[str, Any]], dict[str, Any]]
WORKER_URLS_ENV = "AUTOCODER_WORKER_URLS"
HUB_PREFIX = "hf://datasets/"
EXTRA_CONFIGS: dict[str, tuple[DatasetConfig, ...]] = {
    "analysis": (FINDINGS,),
    "test-planning": (SPECS,),
}
# The first load on the Hub downloads one file per shard: the newest 600 (10 h at 60 s) only;
# locally it reads back 7 days. Later polls read whatever is new.
HUB_BACKFILL_MAX = 600


# name, title, dataset, interval (s), Space name
KNOWN_WORKERS: tuple[tuple[str, str, str, float, str], ...] = (
    ("analysis", "Analysis Worker", "autocoder-analysis-results", 60.0, "autocoder-analysis"),
    ("test-planning", "Test Planning Worker", "autocoder-test-planning-results", 60.0,
     "autocoder-test-planning"),
    ("implementation", "Implementation Worker", "autocoder-implementation-results", 120.0,
     "autocoder-implementation"),
)  # fmt: skip


def parse_worker_urls(text: str | None) -> dict[str, str]:
    """``name=url`` pairs, comma-separated; a bad pair or unknown name is a ConfigError."""
    known = [w[0] for w in KNOWN_WORKERS]
    urls: dict[str, str] = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        name, sep, url = (part.strip() for part in pair.partition("="))
        if not sep or name not in known or not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"{WORKER_URLS_ENV} entry {pair.strip()!r} must look like NAME=http(s)://HOST "
                f"with NAME one of: {', '.join(known)}"
            )
        urls[name] = url.rstrip("/")
    return urls


def space_url(user: str, space: str) -> str:
    """The app URL of a Space: the owner lowercased, with ``_`` and ``.`` turned into ``-``."""
    owner = re.sub(r"[_.]", "-", user.lower())
    return f"https://{owner}-{space}.hf.space"


def hub_owner(settings: Settings) -> str | None:
    """Whose repos to read in Hub mode: HF_USERNAME, else the namespace of AUTOCODER_HUB_REPO."""
    if not settings.hub_mode:
        return None
    return settings.hf_username or (settings.hub_repo or "").partition("/")[0] or None


def hub_token(settings: Settings) -> str | None:
    return settings.hf_token.get_secret_value() if settings.hf_token else None


def is_hub_location(location: str) -> bool:
    if location.startswith(HUB_PREFIX):
        return True
    return (
        not Path(location).is_absolute() and re.fullmatch(r"[\w.-]+/[\w.-]+", location) is not None
    )


def hub_repo_id(location: str) -> str:
    return location.removeprefix(HUB_PREFIX)


def worker_sources(
    settings: Settings, worker_urls: str | None = None, hub: bool | None = None
) -> list[WorkerSource]:
    """The three workers' sources. ``hub`` None: Hub when the settings have Hub credentials.

    ``worker_urls`` defaults to ``$AUTOCODER_WORKER_URLS``. When neither is set, Hub mode derives
    the Space URLs and local mode pings nothing; set (even empty), it is the whole list.
    """
    owner = hub_owner(settings) if hub is not False else None
    if hub and owner is None:
        raise ConfigError("reading the Hub needs HF_TOKEN and HF_USERNAME")
    text = os.environ.get(WORKER_URLS_ENV) if worker_urls is None else worker_urls
    urls = parse_worker_urls(text)
    sources = []
    for name, title, dataset, interval_s, space in KNOWN_WORKERS:
        url = urls.get(name)
        if owner:
            location = f"{owner}/{dataset}"
            url = space_url(owner, space) if text is None else url
        else:
            location = str((settings.data_dir / dataset).resolve())
        sources.append(WorkerSource(name, title, dataset, interval_s, location, url))
    return sources


def tail_for(
    source: WorkerSource, token: str | None = None, project: Project | None = None
) -> DatasetTail:
    """A tail on the source's Hub repo or local folder, with its worker's extra configs."""
    configs = EXTRA_CONFIGS.get(source.name, ())
    if is_hub_location(source.location):
        hub = HubTailSource(hub_repo_id(source.location), token)
        return DatasetTail(hub, configs, backfill_max=HUB_BACKFILL_MAX, project=project)
    return DatasetTail(LocalTailSource(Path(source.location)), configs, project=project)
