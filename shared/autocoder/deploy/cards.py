"""What a Space card says beyond the worker catalog: emoji, colours, one-line description, tags,
and the body text. The dashboard and combined Spaces are not workers, so they live only here.

Kept apart from :mod:`.spaces` (which renders files) so that rewording a card is a change in
one table and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

DASHBOARD = "dashboard"
COMBINED = "combined"
DASHBOARD_SPACE = "autocoder-dashboard"
COMBINED_SPACE = "autocoder"
SECRETS_FOOTER = "See DEPLOYMENT_GUIDE.md in the autocoder repository."


@dataclass(frozen=True)
class Card:
    """The parts of a Space card that the catalog does not know. ``body`` may name
    ``{dataset}`` (the worker's dataset) and ``{datasets}`` (every worker dataset)."""

    emoji: str
    color_from: str
    color_to: str
    short_description: str
    tags: tuple[str, ...]
    body: str
    oauth: bool = True


CARDS: dict[str, Card] = {
    "analysis": Card(
        emoji="🔎",
        color_from="indigo",
        color_to="green",
        short_description="Six static analyses of a repo, every minute, to a dataset",
        tags=("autocoder", "code-analysis"),
        body="""\
Rotates through six perspectives (Code Quality Analysis, Architecture Review, Performance
Analysis, Security Audit, Dependency Analysis, Test Coverage Analysis) over `AUTOCODER_TARGET`
and writes one record per iteration to `{{HF_USERNAME}}/{dataset}`.

Secrets: `HF_TOKEN` (write access to the dataset), `AUTOCODER_ADMIN_TOKEN` (start/stop),
`GITHUB_TOKEN` for a private GitHub target. Variables: `HF_USERNAME`, `AUTOCODER_TARGET`.
""",
    ),
    "test-planning": Card(
        emoji="🧪",
        color_from="yellow",
        color_to="indigo",
        short_description="Fifteen test-planning views of a repo, with pytest code",
        tags=("autocoder", "testing"),
        body="""\
Rotates through fifteen perspectives (What Are We Testing?, Failure Mode Analysis, Integration
Points, Edge Case Discovery, ... Big Picture Review) over `AUTOCODER_TARGET` and writes one record
per iteration to `{{HF_USERNAME}}/{dataset}`, with every test specification
and its pytest code in the dataset's `specs` config.

Secrets: `HF_TOKEN` (write access to the dataset), `AUTOCODER_ADMIN_TOKEN` (start/stop),
`GITHUB_TOKEN` for a private GitHub target. Variables: `HF_USERNAME`, `AUTOCODER_TARGET`.
""",
    ),
    "implementation": Card(
        emoji="🛠️",
        color_from="green",
        color_to="indigo",
        short_description="Verified patches for what the other workers found",
        tags=("autocoder", "code-changes"),
        body="""\
Takes one item at a time from the analysis and test planning workers' datasets (a finding a
fixer can change, a missing dependency declaration, a test specification not yet in the target's
tests) and moves it through six stages, one per iteration: Deep Understanding, Architectural
Analysis, Approach Evaluation, Risk Analysis, Testing Strategy, Implementation Plan. The last one
makes the change with a maintained fixer (ruff's fixes, libcst codemods, tomlkit edits), applies
it to a scratch copy at the target's commit and verifies it. Records go to
`{{HF_USERNAME}}/{dataset}`, every patch with its diff and verification to
the dataset's `patches` config. The target's code is never run unless
`AUTOCODER_RUN_TARGET_TESTS=1`: without it a patch is at best `checked`, never `verified`.

Secrets: `HF_TOKEN` (read the other workers' datasets, write this one), `AUTOCODER_ADMIN_TOKEN`
(start/stop), `GITHUB_TOKEN` for a private GitHub target. Variables: `HF_USERNAME`,
`AUTOCODER_TARGET`.
""",
    ),
    DASHBOARD: Card(
        emoji="📊",
        color_from="green",
        color_to="blue",
        short_description="Are the autocoder workers alive, and what did they find",
        tags=("autocoder", "monitoring"),
        oauth=False,
        body="""\
One page over the worker datasets
({datasets}):
a banner ("All Systems Operational", "Degraded" with which worker and why, or "Down"), each
worker's status (online, stale, offline, not deployed, waiting for first iteration), the
findings, test planning and implementation counts with charts over time, and the latest
findings, specs and patches, filterable. It refreshes every 10 s
(`AUTOCODER_DASHBOARD_REFRESH_S`) and only reads the datasets: it never writes to them.

For scripts: `GET /api/summary` (JSON overview), `GET /health`, and the gradio_client endpoints
`/summary` and `/findings`.

Secrets: `HF_TOKEN` (read access to the datasets, and to private worker Spaces' `/health`).
Variables: `HF_USERNAME`; optionally `AUTOCODER_WORKER_URLS`
(`analysis=https://...,test-planning=https://...`) when the worker Spaces have other names.
""",
    ),
    COMBINED: Card(
        emoji="🤖",
        color_from="indigo",
        color_to="blue",
        short_description="Every autocoder worker and the dashboard in one Space",
        tags=("autocoder", "code-analysis", "monitoring"),
        body="""\
Runs every autocoder worker and the monitoring dashboard in one process, for those who pay for
one Space: the dashboard at `/`, each worker's page at `/{{name}}/`:
{workers}.
Each worker writes one record per iteration to its own dataset:
{datasets}.

Secrets: `HF_TOKEN` (write access to the datasets), `AUTOCODER_ADMIN_TOKEN` (start/stop),
`GITHUB_TOKEN` for a private GitHub target. Variables: `HF_USERNAME`, `AUTOCODER_TARGET`.
""",
    ),
}
