"""The tabs of the page's "Latest findings": one per extra config the catalog's workers write.

A worker added to the catalog gets its tab from its :class:`WorkerInfo` (``configs`` and
``table_titles``); a config the dashboard has no headers for shows a finding's. Two workers
writing the same config (a findings config, say) share one tab, titled by the first of them in
catalog order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from autocoder.apps.dashboard.views import FINDING_HEADERS, PATCH_HEADERS, SPEC_HEADERS
from autocoder.engine.spec import WorkerInfo
from autocoder.workers import catalog

# The cells of a spec or a patch are those of a finding (the worker's ``table_rows``); their
# headers say what the cells hold for them.
HEADERS = {"specs": SPEC_HEADERS, "patches": PATCH_HEADERS}  # else FINDING_HEADERS


@dataclass(frozen=True)
class TableTab:
    """One tab: the rows of one config, with the headers its cells fill.

    ``config`` is also the table's element id (``findings``, ``specs``, ``patches``), so the
    ids the page had before tabs came from the catalog (``findings-tab``, ``#findings``) stay.
    """

    config: str
    title: str

    @property
    def headers(self) -> list[str]:
        return HEADERS.get(self.config, FINDING_HEADERS)

    @property
    def elem_id(self) -> str:
        return self.config

    @property
    def tab_id(self) -> str:
        return f"{self.config}-tab"


def table_tabs(workers: Iterable[WorkerInfo] | None = None) -> tuple[TableTab, ...]:
    """One tab per distinct extra config of ``workers`` (the catalog's), in catalog order.

    A config is titled by the first worker that names it in ``table_titles``, else by its own
    name ("docs" -> "Docs").
    """
    titles: dict[str, str | None] = {}
    for info in catalog.workers() if workers is None else workers:
        for config in info.tabled_configs:
            if not titles.get(config.name):
                titles[config.name] = info.table_titles.get(config.name)
    return tuple(TableTab(name, title or name.capitalize()) for name, title in titles.items())
