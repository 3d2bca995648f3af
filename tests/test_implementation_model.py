"""The implementation worker with a language model, end to end: the real worker and the real
openai client against the scripted OpenAI-compatible server on 127.0.0.1. A feature task is
served by the model's change, verified like any other; each stage's conclusion is the model's,
with its name and token counts; a malformed answer fails the stage, and a spent budget asks
nothing. The key never reaches the dataset."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autocoder.cli import main
from autocoder.store.dataset import LocalDataset
from autocoder.store.reader import read_shard, record_paths
from autocoder.store.tasklog import latest_tasks

from llmserver import LLM_TEST_KEY, LLMServer, running_llm_server
from patchkit import git

IMPLEMENTATION = "autocoder-implementation-results"
FEATURE = {"type": "feature", "priority": 1, "description": "add start_quietly(text) to pkg.app"}
NEW_APP = (
    "from pkg.config import load_config\n\n\ndef start(text):\n    return load_config(text)\n\n\n"
    "def start_quietly(text):\n    return start(text) if text else {}\n"
)


def note(conclusion: str) -> str:
    return json.dumps({"conclusion": conclusion, "points": ["from the evidence"]})


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    with running_llm_server(api_key=LLM_TEST_KEY) as server:
        yield server


@pytest.fixture
def target(
    analysed_target: tuple[Path, Path], tmp_path: Path, llm: LLMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, Path]:  # fmt: skip
    """The analysed target with a feature task in its tasks.json, its analysis data, and a model
    configured; the finding the target has is already taken, so the task is the one item."""
    root, data = tmp_path / "target", tmp_path / "data"
    shutil.copytree(analysed_target[0], root)
    (root / "tasks.json").write_text(json.dumps([FEATURE]))
    git(root, "add", "tasks.json")
    git(root, "commit", "-q", "-m", "a task")
    for name, value in {"AUTOCODER_LLM_BASE_URL": llm.url, "AUTOCODER_LLM_API_KEY": LLM_TEST_KEY,
                        "AUTOCODER_LLM_MODEL": "scripted-coder", "AUTOCODER_NETWORK": "0",
                        "AUTOCODER_LLM_TIMEOUT_S": "10"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert main(["once", "analysis", "--target", str(root), "--data-dir", str(data),
                 "--iterations", "6"]) == 0  # fmt: skip
    return root, data


def run(root: Path, data: Path, iterations: int) -> list[dict[str, Any]]:
    argv = ["once", "implementation", "--target", str(root), "--data-dir", str(data),
            "--iterations", str(iterations)]  # fmt: skip
    assert main(argv) == 0
    dataset = LocalDataset(data / IMPLEMENTATION)
    return [row for path in record_paths(dataset) for row in read_shard(dataset, path)]


def test_a_feature_task_is_served_by_the_models_change_and_verified_like_any_other(
    target: tuple[Path, Path], llm: LLMServer
) -> None:
    llm.answer(json.dumps({"file": "pkg/app.py"}), prompt_tokens=40, completion_tokens=8)
    llm.answer(f"```python\n{NEW_APP}```", prompt_tokens=120, completion_tokens=60)
    for stage in range(6):
        llm.answer(note(f"model conclusion {stage + 1}"), prompt_tokens=30, completion_tokens=10)
    records = run(*target, 6)
    assert [r["status"] for r in records] == ["ok"] * 6, [r["error"] for r in records]
    assert [r["analysis"]["conclusion"] for r in records[:5]] == [
        f"model conclusion {n}" for n in range(1, 6)]  # fmt: skip
    assert records[0]["analysis"]["model"]["name"] == "scripted-coder"
    assert records[0]["analysis"]["model"]["prompt_tokens"] == 30
    plan = records[-1]["analysis"]
    assert (
        plan["code_changes"]["file"] == "pkg/app.py"
        and "start_quietly" in plan["code_changes"]["code"]
    )
    steps = {s["name"]: s["status"] for s in plan["verification"]["steps"]}
    assert steps["finding gone"] == "not_run" and steps["no new high"] == "passed", steps
    assert plan["verification"]["status"] == "checked"
    (task,) = latest_tasks(LocalDataset(target[1] / IMPLEMENTATION)).values()
    assert task.status == "completed" and task.patch_ids == [plan["patch_id"]]
    assert len(llm.chat_requests) == 8  # the change was asked once, not once per stage
    for file in (target[1] / IMPLEMENTATION).rglob("*"):
        if file.is_file():
            assert LLM_TEST_KEY not in file.read_text(errors="replace"), file


def test_a_malformed_answer_fails_the_stage_and_the_task_says_where_it_stopped(
    target: tuple[Path, Path], llm: LLMServer
) -> None:
    llm.answer(json.dumps({"file": "pkg/app.py"}))
    llm.answer(f"```python\n{NEW_APP}```")
    llm.answer(note("understood"))
    llm.answer("I think the module is fine.")  # Architectural Analysis: no JSON object
    llm.answer(note("the yaml finding, next"))  # the next Deep Understanding takes the finding
    records = run(*target, 7)
    assert records[1]["status"] == "error" and "scripted-coder" in records[1]["error"]
    assert LLM_TEST_KEY not in json.dumps(records)
    (task,) = latest_tasks(LocalDataset(target[1] / IMPLEMENTATION)).values()
    assert task.status == "failed"
    assert task.error_detail.startswith("stopped at Architectural Analysis: "), task.error_detail


def test_a_spent_budget_asks_nothing_and_the_task_waits_saying_so(
    target: tuple[Path, Path], llm: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOCODER_LLM_DAILY_TOKENS", "0")
    run(*target, 1)
    (task,) = latest_tasks(LocalDataset(target[1] / IMPLEMENTATION)).values()
    assert task.status == "pending" and "AUTOCODER_LLM_DAILY_TOKENS=0" in task.error_detail
    assert llm.chat_requests == []


def test_a_malformed_answer_is_asked_again_and_the_task_waits_meanwhile(
    target: tuple[Path, Path], llm: LLMServer
) -> None:
    """Only answers that parsed are cached: the next round asks again, and gets a good one."""
    llm.answer(json.dumps({"file": "pkg/app.py"}))
    llm.answer(f"```python\n{NEW_APP}```")
    llm.answer("Looks fine to me.")  # Deep Understanding's note: no JSON object
    run(*target, 1)
    (task,) = latest_tasks(LocalDataset(target[1] / IMPLEMENTATION)).values()
    assert task.status == "pending" and "waiting for the model" in task.error_detail
    for stage in range(6):
        llm.answer(note(f"model conclusion {stage + 1}"))
    records = run(*target, 11)  # the other five stages say no item, then the chain runs
    assert [r["status"] for r in records[-6:]] == ["ok"] * 6, [r["error"] for r in records]
    (task,) = latest_tasks(LocalDataset(target[1] / IMPLEMENTATION)).values()
    assert task.status == "completed", task.error_detail
    assert len(llm.chat_requests) == 9  # file and text asked once, the bad note twice
