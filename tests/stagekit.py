"""What the tests of the six implementation stages build: a small git repository whose one
defect a fixer handles, the real analysis worker's records on it, and the stages run one after
another on it the way the worker runs them, each reading what the one before handed on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import Perspective, PerspectiveResult, RunContext, RunOptions
from autocoder.engine.sources import SourceFiles
from autocoder.store.dataset import LocalDataset
from autocoder.workers.catalog import runnable, worker_spec

from patchkit import git

# yaml.load (bandit B506) in public API with a caller and a test: the yaml_safe_load codemod's.
TARGET = {
    "pkg/__init__.py": "",
    "pkg/config.py": (
        '"""Settings read from YAML."""\n\nimport yaml\n\n\n'
        "def load_config(text):\n    data = yaml.load(text)\n    return dict(data or {})\n"
    ),
    "pkg/app.py": (
        "from pkg.config import load_config\n\n\ndef start(text):\n    return load_config(text)\n"
    ),
    "tests/test_config.py": (
        "from pkg.config import load_config\n\n\n"
        "def test_load_config_reads_a_mapping():\n"
        "    assert load_config('retries: 3') == {'retries': 3}\n"
    ),
    "pyproject.toml": ('[project]\nname = "pkg"\nversion = "0.1"\ndependencies = ["pyyaml"]\n'),
}
STAGES: list[Perspective] = list(worker_spec("implementation").registry)


def peer_perspective(name: str) -> Perspective | None:
    """The analysis or test planning perspective named ``name``, as the worker service finds it."""
    found = [p for info in runnable() if info.name != "implementation"
             for p in info.spec().registry if p.name == name]  # fmt: skip
    return found[0] if found else None


@dataclass
class Chain:
    """The stages run in order on ``root`` at its HEAD, with the peers' datasets under ``data``."""

    root: Path
    data: Path
    scratch: Path
    options: RunOptions = field(default_factory=lambda: RunOptions(network=False))
    results: dict[str, PerspectiveResult] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def context(self, handoff: dict[str, Any], handed_on_by: str | None) -> RunContext:
        return RunContext(
            root=self.root, commit=git(self.root, "rev-parse", "HEAD"),
            sources=SourceFiles.discover(self.root),
            cache=ResultCache(self.scratch / "cache.sqlite3"), options=self.options,
            previous_state=self.state,
            peers=lambda name: LocalDataset(self.data / name) if (self.data / name).is_dir()
            else None,
            handoff=handoff, handoff_from=handed_on_by, perspective_of=peer_perspective,
        )  # fmt: skip

    def through(self, last: str) -> PerspectiveResult:
        """Every stage from Deep Understanding to ``last`` (an id) run in turn; ``last``'s result."""
        handoff: dict[str, Any] = {}
        handed_on_by: str | None = None
        for stage in STAGES:
            result = stage.run(self.context(handoff, handed_on_by))
            self.results[stage.id] = result
            if stage.id == "deep_understanding":
                self.state = result.state
            handoff, handed_on_by = result.handoff, stage.id
            if stage.id == last:
                return result
        raise KeyError(f"no stage {last!r}")

    def with_options(self, **options: Any) -> Chain:
        return replace(self, options=replace(self.options, **options), results={}, state={})
