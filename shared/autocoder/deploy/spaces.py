"""The three files of each Space (``app.py``, the ``README.md`` card, ``requirements.txt``),
rendered from the worker catalog, the card table and the installed package's metadata.

Nothing here reads a checkout: ``autocoder deploy`` works from a wheel, and the Space folders in
the repository are this module's output (a test keeps them byte-identical).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from autocoder.deploy.cards import (
    CARDS,
    COMBINED,
    COMBINED_SPACE,
    DASHBOARD,
    DASHBOARD_SPACE,
    SECRETS_FOOTER,
    Card,
)
from autocoder.errors import ConfigError
from autocoder.workers import catalog

DASHBOARD_FOLDER = "4_monitoring_dashboard"
PYTHON_VERSION = "3.11"
LICENSE = "apache-2.0"


@dataclass(frozen=True)
class SpaceApp:
    """One deployable app: what ``run_space`` calls it, its Space name, its repo folder."""

    name: str  # "analysis", "dashboard", "combined"
    space: str  # "autocoder-analysis"
    title: str  # "autocoder analysis worker"
    folder: str | None  # "1_analysis_worker"; None for the combined Space (no folder)


def separate_apps() -> list[SpaceApp]:
    """One app per Space: every runnable worker, then the dashboard (the order deploy uses)."""
    apps = [
        SpaceApp(info.name, info.space, f"autocoder {info.title.lower()}", info.folder)
        for info in catalog.runnable()
    ]
    apps.append(SpaceApp(DASHBOARD, DASHBOARD_SPACE, "autocoder monitoring dashboard",
                         DASHBOARD_FOLDER))  # fmt: skip
    return apps


def space_app(name: str) -> SpaceApp:
    """The app called ``name``; ConfigError listing the choices for any other."""
    if name == COMBINED:
        return SpaceApp(COMBINED, COMBINED_SPACE, "autocoder", None)
    for app in separate_apps():
        if app.name == name:
            return app
    choices = [app.name for app in separate_apps()] + [COMBINED]
    raise ConfigError(f"there is no Space app named {name!r}; choose one of: {', '.join(choices)}")


def render(name: str) -> dict[str, bytes]:
    """``{"app.py": ..., "README.md": ..., "requirements.txt": ...}`` of the app ``name``."""
    app = space_app(name)
    return {
        "README.md": card_text(app).encode(),
        "app.py": app_py(app).encode(),
        "requirements.txt": requirements_txt().encode(),
    }


def app_py(app: SpaceApp) -> str:
    where = f"{app.folder}/app.py" if app.folder else "app.py"
    what = f"the {app.title}" if app.folder else "every autocoder worker and the dashboard"
    return f'''"""Hugging Face Space entry point of {what}: settings in, app out.

Runs the same way locally: ``python {where}`` (with autocoder installed).
"""

import sys
from pathlib import Path

# On a Space, the deploy step puts the library next to this file; in a checkout it is in ../shared.
for candidate in (Path(__file__).parent, Path(__file__).resolve().parent.parent / "shared"):
    if (candidate / "autocoder").is_dir() and str(candidate) not in sys.path:
        sys.path.insert(0, str(candidate))

from autocoder.apps.launch import run_space  # noqa: E402

if __name__ == "__main__":
    run_space("{app.name}")
'''


def _front_matter(app: SpaceApp, card: Card) -> str:
    lines = [
        "---",
        f"title: {app.title}",
        f"emoji: {card.emoji}",
        f"colorFrom: {card.color_from}",
        f"colorTo: {card.color_to}",
        "sdk: gradio",
        f"sdk_version: {metadata.version('gradio')}",
        "app_file: app.py",
        f'python_version: "{PYTHON_VERSION}"',
        "pinned: false",
        f"license: {LICENSE}",
        f"short_description: {card.short_description}",
    ]
    if card.oauth:
        lines.append("hf_oauth: true")
    lines.append("tags:")
    lines.extend(f"  - {tag}" for tag in card.tags)
    lines.append("---")
    return "\n".join(lines) + "\n"


def card_of(app: SpaceApp) -> Card:
    """The card table's entry, or for a worker added to the catalog without one, a plain card
    from its catalog entry: a new worker deploys with no change here."""
    if app.name in CARDS:
        return CARDS[app.name]
    info = catalog.worker_info(app.name)
    return Card(
        emoji="⚙️",
        color_from="gray",
        color_to="indigo",
        short_description=f"autocoder {info.title.lower()}"[:60],
        tags=("autocoder",),
        body=info.description.replace("{", "{{").replace("}", "}}")
        + "\n\nWrites one record per iteration to `{{HF_USERNAME}}/{dataset}`.\n",
    )


def card_text(app: SpaceApp) -> str:
    """The Space card: YAML front matter the Hub reads, then what the Space does."""
    card = card_of(app)
    workers = catalog.runnable()
    dataset = next((info.dataset for info in workers if info.name == app.name), "")
    datasets = "`{HF_USERNAME}/" + "`, `".join(info.dataset for info in workers) + "`"
    body = card.body.format(
        dataset=dataset,
        datasets=datasets,
        workers=", ".join(f"`{info.name}`" for info in workers),
    )
    heading = app.title.replace("autocoder ", "autocoder · ", 1) if app.folder else app.title
    return f"{_front_matter(app, card)}\n# {heading}\n\n{body}{SECRETS_FOOTER}\n"


def requirements_txt() -> str:
    """The installed autocoder's own dependencies (no extras), so they never drift from
    pyproject.toml; the library itself is bundled next to app.py instead."""
    header = "# The library itself is copied next to app.py by the deploy step (autocoder deploy)."
    return "\n".join([header, *runtime_requirements()]) + "\n"


def runtime_requirements() -> list[str]:
    """``Requires-Dist`` of the installed distribution, minus those behind an extra (test)."""
    lines = []
    for text in metadata.requires("autocoder") or []:
        _spec, _sep, marker = text.partition(";")
        if "extra" not in marker:
            lines.append(text.strip())
    return lines
