"""Every Python snippet we give users runs, whatever the state of the dataset it reads.

The snippets are taken verbatim from the documents (README.md, DEPLOYMENT_GUIDE.md, the Space
cards), from the dataset cards the workers write, and from the CI gate script the CI/CD
Integration perspective hands out. They run against datasets written by the real engine whose
newest record is ok, skipped or failed (after an ok one, so shards of both kinds are read
together). Only the dataset id is pointed elsewhere, the way the README says users read locally:
the working folder holds ``autocoder-data/<dataset>`` (what ``./scripts/up`` writes) and
``USER/<dataset>``, so ``"USER/autocoder-analysis-results"`` is read as that local folder.
The snippets of one document share one namespace, as when a reader pastes them in order.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any, ClassVar

import datasets
import pytest
from huggingface_hub import HfApi

from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import PerspectiveResult, Registry, RunContext
from autocoder.engine.spec import WorkerInfo, WorkerSpec
from autocoder.engine.target import Target
from autocoder.engine.worker import Worker
from autocoder.errors import PerspectiveSkipped
from autocoder.store.local import LocalStore
from autocoder.workers import catalog
from autocoder.workers.test_planning.perspectives.ci_integration import GATE

from enginekit import Crashes, LongLines
from hubserver import TEST_TOKEN, TEST_USER, HubServer

ROOT = Path(__file__).parent.parent
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCUMENTS = [  # the documents a user reads that show Python (the Space cards show none today)
    path
    for path in sorted([*ROOT.glob("*.md"), *ROOT.glob("[0-9]_*/README.md")])
    if PYTHON_BLOCK.search(path.read_text(encoding="utf-8"))
]
INLINE_LOAD = re.compile(r"`(load_dataset\([^`]*)`")
STATES = ("ok", "skipped", "error")


class NoPackage:
    """Skips the way Architecture Review does on a tree it cannot read as a package."""

    id: ClassVar[str] = "no_package"
    name: ClassVar[str] = "No Package"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        raise PerspectiveSkipped("no Python package at the top or under src/")


def python_snippets(document: Path) -> list[str]:
    """The ```python blocks of a Markdown document, in order."""
    return PYTHON_BLOCK.findall(document.read_text(encoding="utf-8"))


def worker_for(info: WorkerInfo, state: str, target: Path, data: Path) -> Worker:
    """A worker with the real info, insights and record shape of ``info``'s worker, whose
    rotation ends in an iteration of ``state``."""
    real = info.spec()
    last = {"ok": [], "skipped": [NoPackage()], "error": [Crashes()]}[state]
    spec = WorkerSpec(
        info=info,
        registry=Registry([LongLines(), *last]),
        new_insights=real.new_insights,
        item_rows=real.item_rows,
        record_analysis=real.record_analysis,
    )
    store = LocalStore(data / info.dataset, info.title, info.description, info.configs)
    cache = ResultCache(data / ".cache" / "results.sqlite3")
    return Worker(spec, store, Target(str(target), data / ".cache" / "targets"), cache)


@pytest.fixture(params=STATES)
def user_folder(
    request: pytest.FixtureRequest, shop_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A working folder whose datasets' newest record has the state of the parameter, with a
    fresh datasets cache (a new user's), as the current directory."""
    state: str = request.param
    data = tmp_path / "autocoder-data"
    for info in catalog.runnable():
        worker = worker_for(info, state, shop_dir, data)
        for _ in range(len(worker.spec.registry)):
            asyncio.run(worker.run_iteration())
        assert worker.store.latest()["status"] == state  # type: ignore[index]
        shutil.copytree(data / info.dataset, tmp_path / "USER" / info.dataset)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_documents_have_the_snippets_this_test_runs() -> None:
    found = {path.name: len(python_snippets(path)) for path in DOCUMENTS}
    assert found["README.md"] >= 2 and found["DEPLOYMENT_GUIDE.md"] >= 1
    assert "load_dataset" in GATE


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_snippet_of_a_document_runs_verbatim(
    document: Path, user_folder: Path
) -> None:
    namespace: dict[str, Any] = {}
    for snippet in python_snippets(document):
        exec(compile(snippet, f"{document.name} snippet", "exec"), namespace)


def test_the_dataset_cards_load_dataset_examples_run(user_folder: Path) -> None:
    for info in catalog.runnable():
        folder = user_folder / "autocoder-data" / info.dataset
        examples = INLINE_LOAD.findall((folder / "README.md").read_text(encoding="utf-8"))
        assert examples, f"the {info.dataset} card shows no load_dataset example"
        for example in examples:
            eval(example, {"load_dataset": datasets.load_dataset, "repo": str(folder)})


def test_the_ci_gate_script_runs_on_the_latest_record(
    user_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_USERNAME", "USER")
    monkeypatch.setenv("AUTOCODER_MAX_FAILURE_MODES", "1000")
    with pytest.raises(SystemExit) as exited:
        exec(compile(GATE, "ci gate", "exec"), {})
    assert exited.value.code == 0


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_snippet_runs_verbatim_against_the_hub(
    document: Path, user_folder: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same snippets with ``USER/`` pointed at the test Hub, where the workers' datasets are
    private repos read with HF_TOKEN (as DEPLOYMENT_GUIDE.md says)."""
    api = HfApi(token=TEST_TOKEN)
    for info in catalog.runnable():
        repo = f"{TEST_USER}/{info.dataset}"
        api.create_repo(repo, repo_type="dataset", private=True)
        api.upload_folder(
            repo_id=repo, repo_type="dataset", folder_path=user_folder / "USER" / info.dataset
        )
    shutil.rmtree(user_folder / "USER")  # the Hub's copy only
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    namespace: dict[str, Any] = {}
    for snippet in python_snippets(document):
        on_hub = snippet.replace('"USER/', f'"{TEST_USER}/')
        exec(compile(on_hub, f"{document.name} snippet", "exec"), namespace)
