"""Benchmark issue 14 end to end on the planted repository, all on this machine: tasks from a
tasks.json with good and bad entries, served with a language model (an OpenAI-compatible
server on 127.0.0.1 that writes plausible changes: tests/llmserver.py's, answering by the
question instead of a fixed script), every checked change published to a git remote on disk
and the fake GitHub API (tests/githubserver.py).

Reported: tasks accepted and rejected (with why), each task's end state, the patches by label
and the verified share, the model calls and tokens, and the publishing requests GitHub saw.
Run: ``.venv/bin/python bench/bench_tasks.py [--run-tests] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from implementation_checks import prepared_target

from autocoder.cli import main
from autocoder.store.dataset import LocalDataset
from autocoder.store.reader import read_shard, record_paths
from autocoder.store.tasklog import latest_tasks

from githubserver import GITHUB_TEST_TOKEN, running_github
from llmserver import LLM_TEST_KEY, LLMRequest, LLMServer, Scripted

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATASET = "autocoder-implementation-results"
TASKS = [
    {"type": "bug_fix", "priority": 1, "file": "planted/config.py",
     "issue": "B506: yaml.load builds arbitrary objects"},
    {"type": "bug_fix", "priority": 2, "file": "planted/fetch.py",
     "issue": "B113: requests without a timeout hang forever"},
    {"type": "feature", "priority": 2,
     "description": "add sentence_count(text) returning the number of sentences"},
    {"type": "content", "priority": 3, "content_type": "docstring", "context": "planted.cache"},
    {"type": "bug_fix", "priority": 1, "file": "../../etc/passwd", "issue": "x"},
    {"type": "bug_fix", "priority": 1, "file": "/etc/passwd", "issue": "x"},
    {"type": "bug_fix", "priority": 1, "file": "escape/passwd", "issue": "x"},
    {"type": "bug_fix", "priority": 1, "file": "planted/missing.py", "issue": "x"},
    {"type": "refactor", "priority": 1, "description": "x"},
    {"type": "feature", "priority": 0, "description": "x"},
    {"type": "feature", "description": "x", "owner": "me"},
]  # fmt: skip
ADDED = '''

def sentence_count(text: str) -> int:
    """The number of sentences in ``text``: the '.', '!' and '?' that end one."""
    return sum(1 for char in text if char in ".!?")
'''


class WritingModel(LLMServer):
    """Answers each question by its kind: a file choice, a file's new text, a stage's note."""

    calls: Counter[str]

    def next_answer(self, request: LLMRequest) -> Scripted:
        self.calls = getattr(self, "calls", Counter())
        with self._lock:
            self.requests.append(request)
        prompt = request.json["messages"][-1]["content"]
        if "Files of the repository:" in prompt:
            self.calls["file choice"] += 1
            chosen = "planted/cache.py" if "docstring" in prompt else "planted/textutil.py"
            return _chat(json.dumps({"file": chosen}))
        if "complete new content" in prompt:
            self.calls["file text"] += 1
            old = re.search(r"```\n(.*)\n```", prompt, re.S)
            text = (old.group(1) if old else "").rstrip("\n") + "\n"
            if "sentence_count" in prompt:  # a feature: the function
                new = text + ADDED
            else:  # content: the function's docstring
                new = text.replace(
                    "def cache_key(*parts: str) -> str:\n",
                    'def cache_key(*parts: str) -> str:\n    """A stable digest of ``parts``."""\n',
                )
            return _chat(f"```python\n{new}```")
        self.calls["stage note"] += 1
        stage = re.search(r"Stage: ([A-Za-z ]+)\.", prompt)
        return _chat(
            json.dumps(
                {
                    "conclusion": f"{stage.group(1) if stage else '?'}: as the evidence shows",
                    "points": ["read from the evidence"],
                }
            )
        )


def _chat(text: str) -> Scripted:
    return Scripted(200, {"id": "c", "object": "chat.completion", "created": 0,
                          "model": "bench-writer", "choices": [{"index": 0, "finish_reason":
                          "stop", "message": {"role": "assistant", "content": text}}],
                          "usage": {"prompt_tokens": 100, "completion_tokens": 40,
                                    "total_tokens": 140}})  # fmt: skip


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip


def run(run_tests: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-tasks-"))
    target = prepared_target(ROOT / "tests" / "fixtures" / "planted_repo", work)
    (target / "tasks.json").write_text(json.dumps(TASKS, indent=1))
    (target / "escape").symlink_to("/etc")
    _git(target, "add", "tasks.json", "escape")
    _git(target, "commit", "-qm", "tasks")
    remote = work / "remote.git"
    _git(work, "clone", "-q", "--bare", str(target), str(remote))
    _git(target, "remote", "add", "origin", str(remote))
    data = work / "data"
    model = WritingModel(LLM_TEST_KEY)
    model.start()
    try:
        with running_github() as github:
            github.add_repo("bench/planted")
            os.environ.update({
                "AUTOCODER_NETWORK": "0", "AUTOCODER_RUN_TARGET_TESTS": "1" if run_tests else "0",
                "AUTOCODER_LLM_BASE_URL": model.url, "AUTOCODER_LLM_API_KEY": LLM_TEST_KEY,
                "AUTOCODER_LLM_MODEL": "bench-writer", "AUTOCODER_PUBLISH": "github",
                "AUTOCODER_PUBLISH_CHECKED": "0" if run_tests else "1",
                "GITHUB_TOKEN": GITHUB_TEST_TOKEN, "AUTOCODER_GITHUB_API_URL": github.url,
                "AUTOCODER_GITHUB_REPO": "bench/planted"})  # fmt: skip
            for worker, n in (("analysis", 6), ("implementation", 6 * 4 + 1)):
                argv = ["once", worker, "--target", str(target), "--data-dir", str(data),
                        "--iterations", str(n)]  # fmt: skip
                if main(argv) != 0:
                    raise SystemExit(f"autocoder once {worker} failed")
            requests = [f"{r.method} {r.path}" for r in github.requests]
            drafts = [r.json for r in github.requests if r.method == "POST"]
    finally:
        model.stop()
    return _report(data / DATASET, model, requests, drafts, remote)


def _report(
    dataset_dir: Path, model: WritingModel, requests: list[str], drafts: list[dict[str, Any]],
    remote: Path,
) -> dict[str, Any]:  # fmt: skip
    dataset = LocalDataset(dataset_dir)
    records = [r for p in record_paths(dataset) for r in read_shard(dataset, p)]
    first = next(r for r in records if r["perspective_name"] == "Deep Understanding")
    rejected = first["analysis"]["details"]["tasks"]["rejected"]
    tasks = latest_tasks(dataset)
    patches = [r for p in dataset.list_files("data/patches") for r in read_shard(dataset, p)]
    labels = Counter(p["status"] for p in patches)
    tokens = sum(int(r["analysis"].get("model", {}).get("prompt_tokens", 0))
                 + int(r["analysis"].get("model", {}).get("completion_tokens", 0))
                 for r in records)  # fmt: skip
    return {
        "tasks_in_file": len(TASKS),
        "accepted": len(tasks),
        "rejected": rejected,
        "tasks": {
            t.description[:60]: [t.status, t.error_detail[:160], t.published_url]
            for t in tasks.values()
        },
        "patches": len(patches),
        "labels": dict(labels),
        "verified_share": round(labels["verified"] / len(patches), 3) if patches else 0.0,
        "model_calls": dict(model.calls),
        "stage_note_tokens": tokens,
        "github_requests": Counter(requests),
        "draft_prs": [{k: d[k] for k in ("head", "base", "draft", "title")} for d in drafts],
        "remote_branches": _git(remote, "branch", "--list", "autocoder/*").split(),
        "records": Counter(f"{r['perspective_name']}: {r['status']}" for r in records),
    }


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-tests", action="store_true", help="run the target's tests")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "tasks.json")
    args = parser.parse_args()
    report = run(args.run_tests)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(json.dumps(report, indent=1, default=str))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main_cli()
