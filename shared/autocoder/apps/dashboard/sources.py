"""Which datasets the dashboard reads, where, and which ``/health`` URLs it pings.

Local mode (no Hub settings): ``<data-dir>/<dataset>`` folders, as absolute paths. Hub mode
(``HF_TOKEN`` with ``HF_USERNAME``): repos ``{HF_USERNAME}/<dataset>``. Worker URLs come from
``AUTOCODER_WORKER_URLS`` (``analysis=http://host:7861,test-planning=...``) or, in Hub mode,
from the Space names: ``https://{user}-{space}.hf.space``. A relative location is a Hub repo id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from autocoder.apps.dashboard.model import WorkerSource
from autocoder.errors import ConfigError
from autocoder.settings import Settings
from autocoder.store.dataset import HubDataset
from autocoder.store.locate import (
    dataset_location,
    hub_owner,
    open_location,
)
from autocoder.store.tail import DatasetTail
from autocoder.workers import catalog

Project = Callable[[dict[str, Any]], dict[str, Any]]
WORKER_URLS_ENV = "AUTOCODER_WORKER_URLS"
# The first load on the Hub downloads one file per shard: the newest 600 (10 h at 60 s) only;
# locally it reads back 7 days. Later polls read whatever is new.
HUB_BACKFILL_MAX = 600


def parse_worker_urls(text: str | None) -> dict[str, str]:
    """``name=url`` pairs, comma-separated; a bad pair or unknown name is a ConfigError."""
    known = [info.name for info in catalog.workers()]
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


def worker_sources(
    settings: Settings, worker_urls: str | None = None, hub: bool | None = None
) -> list[WorkerSource]:
    """A source per catalog worker. ``hub`` None: Hub when the settings have Hub credentials.

    ``worker_urls`` defaults to ``AUTOCODER_WORKER_URLS``. When neither is set, Hub mode derives
    the Space URLs and local mode pings nothing; set (even empty), it is the whole list.
    """
    owner = hub_owner(settings) if hub is not False else None
    text = settings.worker_urls if worker_urls is None else worker_urls
    urls = parse_worker_urls(text)
    sources = []
    for info in catalog.workers():
        location = dataset_location(settings, info.dataset, hub=hub)
        url = urls.get(info.name)
        if owner and text is None:
            url = space_url(owner, info.space)
        sources.append(WorkerSource.of(info, location, url))
    return sources


def tail_for(
    source: WorkerSource, token: str | None = None, project: Project | None = None
) -> DatasetTail:
    """A tail on the source's Hub repo or local folder, with its worker's extra configs."""
    configs = source.worker.tabled_configs
    dataset = open_location(source.location, token)
    if isinstance(dataset, HubDataset):
        return DatasetTail(dataset, configs, backfill_max=HUB_BACKFILL_MAX, project=project)
    return DatasetTail(dataset, configs, project=project)
