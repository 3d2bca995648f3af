"""Deep Understanding: which item it takes from the peers' findings, the evidence it shows for
it, and what it says when there is nothing to take."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.workers.implementation.stages import deep_understanding
from autocoder.workers.implementation.stages.deep_understanding import DeepUnderstanding

from patchkit import git
from stagekit import Chain


def test_it_takes_the_finding_a_fixer_handles_and_shows_its_line_and_definition(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    chain = Chain(*analysed_target, tmp_path)
    result = chain.through("deep_understanding")
    details = result.details
    assert (details["item"]["tool"], details["item"]["rule"]) == ("bandit", "B506")
    assert (details["item"]["file"], details["item"]["line"]) == ("pkg/config.py", 7)
    assert "> 7 |     data = yaml.load(text)" in details["content"]["code"]
    assert details["content"]["definition"]["qualname"] == "load_config"
    assert details["content"]["fixes_offered"] == [
        "libcst:yaml-safe-load: load YAML safely: yaml.load(...) -> yaml.safe_load(...)"
    ]
    assert "pkg/config.py:7 in function load_config, from Security Audit" in result.summary
    assert result.handoff["item"]["id"] == details["item_id"]
    assert result.handoff["base_commit"] == git(analysed_target[0], "rev-parse", "HEAD")


def test_an_item_taken_at_this_commit_is_not_taken_again(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    chain = Chain(*analysed_target, tmp_path)
    chain.through("deep_understanding")
    with pytest.raises(PerspectiveSkipped, match="all 1 item at this commit were taken already"):
        DeepUnderstanding().run(chain.context({}, None))


def test_without_the_peers_records_it_names_what_is_missing(tmp_path: Path) -> None:
    root = tmp_path / "target"
    root.mkdir()
    (root / "mod.py").write_text("value = 1\n")
    chain = Chain(root, tmp_path / "no-data", tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")
    with pytest.raises(PerspectiveSkipped) as skipped:
        chain.through("deep_understanding")
    said = str(skipped.value)
    assert "no work items at this commit" in said
    assert "no Security Audit record in autocoder-analysis-results" in said


def test_items_no_fixer_can_change_are_passed_over_with_the_reason_and_remembered(
    analysed_target: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finding's file no longer holds a yaml.load the codemod can rewrite (the checkout was
    edited after the analysis): the item is asked, refused, and not asked again at the commit."""
    root = tmp_path / "target"
    shutil.copytree(analysed_target[0], root)
    (root / "pkg" / "config.py").write_text("def load_config(text):\n    return {}\n")
    chain = Chain(root, analysed_target[1], tmp_path)
    with pytest.raises(PerspectiveSkipped) as skipped:
        chain.through("deep_understanding")
    said = str(skipped.value)
    assert said.startswith("1 item of 1 asked, none with a fix a fixer can make (")
    assert "yaml_safe_load" in said and "every item at this commit has now been asked" in said
    monkeypatch.setattr(deep_understanding.fixers, "fixes_for", _must_not_be_asked)
    assert skipped.value.state is not None
    chain.state = skipped.value.state  # the worker keeps a skipped run's state for the next run
    with pytest.raises(PerspectiveSkipped):
        DeepUnderstanding().run(chain.context({}, None))


def _must_not_be_asked(*_args: object) -> None:
    raise AssertionError("an item found unfixable at this commit was asked again")
