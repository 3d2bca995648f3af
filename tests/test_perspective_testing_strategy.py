"""Testing Strategy: which tests will check the change and which verification steps will run."""

from __future__ import annotations

from pathlib import Path

from autocoder.workers.implementation.verify import STATIC_STEPS

from stagekit import Chain


def test_with_the_target_tests_off_only_static_steps_are_planned_and_it_says_so(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    result = Chain(*analysed_target, tmp_path).through("testing_strategy")
    content = result.details["content"]
    assert content["existing_tests"] == ["tests/test_config.py"]
    assert content["steps"] == list(STATIC_STEPS) and content["tests_allowed"] is False
    assert content["new_test"] is None
    assert result.summary.endswith(
        "1 existing test file refers to the code; no test planning spec has this subject; "
        "static checks only: AUTOCODER_RUN_TARGET_TESTS is off, the tests do not run"
    )


def test_with_the_target_tests_allowed_the_run_and_the_before_after_check_are_planned(
    analysed_target: tuple[Path, Path], tmp_path: Path
) -> None:
    chain = Chain(*analysed_target, tmp_path).with_options(run_target_tests=True)
    content = chain.through("testing_strategy").details["content"]
    assert content["steps"] == [*STATIC_STEPS, "tests", "before/after"]
    assert content["tests_allowed"] is True
