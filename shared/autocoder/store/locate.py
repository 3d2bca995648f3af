"""Which dataset to read, from the settings: the one place that turns a dataset name into a
:class:`~autocoder.store.dataset.Dataset`, a local folder or a Hub repo.

Three readers, three rules, because each reads from a different seat:

- ``role="reader"``, the commands (``latest``, ``sarif``, ``gate``, ``tests``): an explicit
  ``--repo`` or ``AUTOCODER_HUB_REPO`` wins (read with ``HF_TOKEN`` when there is one), else the
  local folder ``DATA_DIR/<dataset>``.
- ``role="peer"``, a worker reading another worker's rows: the local folder when it has records
  (both workers on one machine), else in Hub mode ``{HF_USERNAME}/<dataset>``, else None.
  Never ``AUTOCODER_HUB_REPO``: that names this worker's own repo, not its peer's.
- ``role="dashboard"``, the monitoring dashboard: in Hub mode ``{owner}/<dataset>`` with the owner
  ``HF_USERNAME`` or the namespace of ``AUTOCODER_HUB_REPO``, else the absolute local path. The
  dashboard keeps that location as a string (:func:`dataset_location`) and opens it with
  :func:`open_location`.

An explicit ``repo`` wins in every role.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, overload

from autocoder.errors import ConfigError
from autocoder.settings import Settings
from autocoder.store.dataset import HUB_PREFIX, Dataset, HubDataset, LocalDataset
from autocoder.store.reader import record_paths

Role = Literal["reader", "peer", "dashboard"]
REPO_ID = re.compile(r"[\w.-]+/[\w.-]+")


def hub_token(settings: Settings) -> str | None:
    return settings.hf_token.get_secret_value() if settings.hf_token else None


def hub_owner(settings: Settings) -> str | None:
    """Whose repos the dashboard reads in Hub mode: HF_USERNAME (on a Space, its owner), else
    the namespace of AUTOCODER_HUB_REPO; None in local mode."""
    if not settings.hub_mode:
        return None
    return settings.owner or (settings.hub_repo or "").partition("/")[0] or None


def is_hub_location(location: str) -> bool:
    """``hf://datasets/USER/NAME`` or a relative ``USER/NAME``; a local location is absolute."""
    if location.startswith(HUB_PREFIX):
        return True
    return not Path(location).is_absolute() and REPO_ID.fullmatch(location) is not None


def hub_repo_id(location: str) -> str:
    return location.removeprefix(HUB_PREFIX)


def dataset_location(settings: Settings, dataset: str, *, hub: bool | None = None) -> str:
    """Where the dashboard reads ``dataset``: ``owner/dataset`` on the Hub, or an absolute path.

    ``hub`` None: the Hub when the settings have Hub credentials; False: the local folder;
    True: the Hub, and a ConfigError when the settings cannot say whose repos to read.
    """
    owner = hub_owner(settings) if hub is not False else None
    if hub and owner is None:
        raise ConfigError("reading the Hub needs HF_TOKEN and HF_USERNAME")
    if owner:
        return f"{owner}/{dataset}"
    return str((settings.data_dir / dataset).resolve())


def open_location(location: str, token: str | None = None) -> Dataset:
    """The dataset at a location string (see :func:`is_hub_location`)."""
    if is_hub_location(location):
        return HubDataset(hub_repo_id(location), token)
    return LocalDataset(Path(location))


@overload
def open_dataset(
    settings: Settings,
    dataset: str,
    *,
    repo: str | None = None,
    role: Literal["reader", "dashboard"] = "reader",
) -> Dataset: ...


@overload
def open_dataset(
    settings: Settings, dataset: str, *, repo: str | None = None, role: Literal["peer"]
) -> Dataset | None: ...


def open_dataset(
    settings: Settings, dataset: str, *, repo: str | None = None, role: Role = "reader"
) -> Dataset | None:
    """The dataset named ``dataset`` as ``role`` reads it (see the module docstring)."""
    token = hub_token(settings)
    if repo:
        return HubDataset(repo, token)
    if role == "peer":
        return _peer(settings, dataset, token)
    if role == "dashboard":
        return open_location(dataset_location(settings, dataset), token)
    if settings.hub_repo:
        return HubDataset(settings.hub_repo, token)
    return LocalDataset(settings.data_dir / dataset)


def _peer(settings: Settings, dataset: str, token: str | None) -> Dataset | None:
    local = LocalDataset(settings.data_dir / dataset)
    if record_paths(local):
        return local
    repo_id = settings.repo_id(dataset) if not settings.hub_repo else None
    if settings.hub_mode and repo_id:
        return HubDataset(repo_id, token)
    return None
