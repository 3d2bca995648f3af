"""The autocoder command: once, latest, sarif, gate, with local folders and Hub repos; its
exit codes; and a worker added to the catalog, taken up with no other change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from autocoder import __version__
from autocoder.cli import main
from autocoder.engine.spec import WorkerSpec
from autocoder.errors import one_line
from autocoder.workers import catalog
from autocoder.workers.analysis.info import ANALYSIS
from autocoder.workers.catalog import worker_names

from hubserver import TEST_TOKEN, TEST_USER, HubServer

ROOT = Path(__file__).parent.parent
SIX = [
    "Code Quality Analysis",
    "Architecture Review",
    "Performance Analysis",
    "Security Audit",
    "Dependency Analysis",
    "Test Coverage Analysis",
]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")


@pytest.fixture
def analysed(
    shop_repo: Path, tmp_path: Path, offline: None, capsys: pytest.CaptureFixture[str]
) -> Path:
    data = tmp_path / "data"
    assert (
        main(
            [
                "once",
                "analysis",
                "--target",
                str(shop_repo),
                "--data-dir",
                str(data),
                "--iterations",
                "6",
            ]
        )
        == 0
    )
    capsys.readouterr()
    return data


def test_once_runs_all_six_perspectives_back_to_back(analysed: Path) -> None:
    from datasets import load_dataset

    rows = load_dataset(str(analysed / "autocoder-analysis-results"))["train"]
    assert list(rows["perspective_name"]) == SIX
    assert list(rows["status"]) == ["ok"] * 6
    assert len({r["target"]["commit"] for r in rows}) == 1
    assert rows[-1]["cumulative_insights"]["perspectives_completed"] == sorted(SIX)


def test_latest_prints_the_newest_record(
    analysed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["latest", "analysis", "--data-dir", str(analysed)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["iteration"] == 6 and record["perspective_name"] == "Test Coverage Analysis"


def test_latest_on_an_empty_folder_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["latest", "analysis", "--data-dir", str(tmp_path)]) == 2
    assert "has no record yet; run `autocoder once analysis`" in capsys.readouterr().err


def test_sarif_has_one_run_per_tool_with_valid_locations(analysed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    assert main(["sarif", "--data-dir", str(analysed), "-o", str(out)]) == 0
    log = json.loads(out.read_text())
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    tools = [run["tool"]["driver"]["name"] for run in log["runs"]]
    assert len(tools) == len(set(tools)) and {"ruff", "bandit", "detect-secrets", "deptry"} <= set(
        tools
    )
    for run in log["runs"]:
        rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
        assert run["results"], run["tool"]["driver"]["name"]
        for result in run["results"]:
            assert result["ruleId"] in rule_ids
            assert result["level"] in {"error", "warning", "note"}
            location = result["locations"][0]["physicalLocation"]
            assert not location["artifactLocation"]["uri"].startswith("/")
            assert location["region"]["startLine"] >= 1
            assert result["partialFingerprints"]["autocoder/v1"]
        assert "versionControlProvenance" not in run  # a local folder has no repository URI
    pickle = [r for run in log["runs"] for r in run["results"] if r["ruleId"].startswith("B301")]
    assert (
        pickle
        and pickle[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "shop/storage.py"
    )


def test_gate_fails_on_high_and_passes_on_critical(
    analysed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gate", "--fail-on", "high", "--data-dir", str(analysed)]) == 1
    report = capsys.readouterr().out
    assert "FAILED" in report and "shop/storage.py" in report
    assert main(["gate", "--fail-on", "critical", "--data-dir", str(analysed)]) == 0
    assert "PASSED: nothing at or above critical." in capsys.readouterr().out


def test_gate_rejects_an_unknown_severity(
    analysed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gate", "--fail-on", "severe", "--data-dir", str(analysed)]) == 2
    assert "--fail-on 'severe' is not a severity" in capsys.readouterr().err


def test_once_with_a_wrong_target_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["once", "analysis", "--target", str(tmp_path / "nope"), "--data-dir", str(tmp_path / "d")]
    )
    assert code == 2
    err = capsys.readouterr().err
    # the flag was given, so the message quotes the flag (issue 12), not AUTOCODER_TARGET
    assert err.startswith("autocoder: error: --target '") and "does not exist" in err
    assert "Traceback" not in err
    assert not (tmp_path / "d").exists()  # checked before the dataset folder is created


def test_invalid_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOCODER_INTERVAL_S", "-5")
    assert main(["latest", "analysis", "--data-dir", str(tmp_path)]) == 2
    assert "AUTOCODER_INTERVAL_S" in capsys.readouterr().err


def test_once_in_hub_mode_pushes_and_latest_sarif_gate_read_the_hub(
    hub: HubServer,
    shop_repo: Path,
    tmp_path: Path,
    offline: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("HF_USERNAME", TEST_USER)
    assert (
        main(
            [
                "once",
                "analysis",
                "--target",
                str(shop_repo),
                "--data-dir",
                str(tmp_path / "d"),
                "--iterations",
                "6",
            ]
        )
        == 0
    )
    repo = f"{TEST_USER}/autocoder-analysis-results"
    assert len([p for p in hub.files(repo) if p.startswith("data/records/")]) == 6
    capsys.readouterr()
    assert main(["latest", "analysis", "--repo", repo]) == 0
    assert json.loads(capsys.readouterr().out)["iteration"] == 6
    assert main(["gate", "--fail-on", "high", "--repo", repo]) == 1
    assert TEST_TOKEN not in capsys.readouterr().out
    assert main(["sarif", "--repo", repo, "-o", str(tmp_path / "hub.sarif")]) == 0
    assert json.loads((tmp_path / "hub.sarif").read_text())["runs"]


def _unusable_data_dirs(tmp_path: Path) -> dict[str, Path]:
    """Data folders that cannot be written, even by root (chmod does not stop root)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("a file where the data folder must be\n")
    card_is_a_folder = tmp_path / "card-is-a-folder"  # what a full disk did: OSError in _write_card
    (card_is_a_folder / "autocoder-analysis-results" / "README.md").mkdir(parents=True)
    (card_is_a_folder / "autocoder-test-planning-results" / "README.md").mkdir(parents=True)
    temp_is_a_file = tmp_path / "temp-is-a-file"
    for dataset in ("autocoder-analysis-results", "autocoder-test-planning-results"):
        (temp_is_a_file / dataset).mkdir(parents=True)
        (temp_is_a_file / dataset / ".tmp").write_text("blocks every write\n")
    return {"a-file": a_file, "card": card_is_a_folder, "temp": temp_is_a_file}


def _assert_one_clear_line(err: str) -> None:
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith("autocoder: error: "), err


@pytest.mark.parametrize("which", ["a-file", "card", "temp"])
@pytest.mark.parametrize(
    "command",
    [["once", "analysis"], ["once", "test-planning"], ["serve", "analysis"], ["up"]],
    ids=["once-analysis", "once-test-planning", "serve", "up"],
)
def test_an_unusable_data_folder_is_one_line_and_exit_2(
    tmp_path: Path,
    offline: None,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    which: str,
) -> None:
    data = _unusable_data_dirs(tmp_path)[which]
    target = tmp_path / "target"
    target.mkdir()
    (target / "mod.py").write_text("value = 1\n")
    extra = ["--port", "0"] if command[0] in ("serve", "up") else []
    assert main([*command, "--target", str(target), "--data-dir", str(data), *extra]) == 2
    err = capsys.readouterr().err
    _assert_one_clear_line(err)
    assert str(data) in err


@pytest.mark.parametrize("command", [["latest", "analysis"], ["sarif"], ["gate"]])
def test_reading_commands_on_a_data_folder_that_is_a_file_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    data = _unusable_data_dirs(tmp_path)["a-file"]
    assert main([*command, "--data-dir", str(data)]) == 2
    _assert_one_clear_line(capsys.readouterr().err)


def test_an_os_error_at_the_top_is_told_as_what_and_why(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    secret = "adm-" + "q8" * 10
    try:
        (blocker / secret).mkdir()
    except OSError as e:
        line = one_line(e, [secret])
    assert line.startswith(f"cannot use {blocker}/***: ") and "Not a directory" in line


@pytest.mark.parametrize("problem", ["data-dir-is-a-file", "public-bind-without-token"])
def test_a_space_that_cannot_start_says_why_in_one_line_and_exits_2(
    tmp_path: Path, problem: str
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOCODER_", "SPACE_"))}
    env |= {"AUTOCODER_TARGET": str(tmp_path), "AUTOCODER_NETWORK": "0", "AUTOCODER_PORT": "0"}
    if problem == "data-dir-is-a-file":
        env["AUTOCODER_DATA_DIR"] = str(a_file)
    else:
        env |= {"AUTOCODER_DATA_DIR": str(tmp_path / "data"), "AUTOCODER_HOST": "0.0.0.0"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "1_analysis_worker" / "app.py")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if "autocoder: error:" in line]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert ("AUTOCODER_HOST" if problem == "public-bind-without-token" else str(a_file)) in errors[
        0
    ]


# --- exit codes: 0 ok, 1 gate failed, 2 usage and every error, 130 Ctrl+C --------------------


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"autocoder {__version__}\n"
    assert main(["--help"]) == 0
    listing = capsys.readouterr().out.split("Commands:")[1].strip().splitlines()
    assert [line.split()[0] for line in listing] == [
        "up", "serve", "once", "latest", "sarif", "tests", "gate", "repair", "patches", "apply",
        "status", "deploy",
    ]  # fmt: skip
    assert main(["gate", "-h"]) == 0
    assert "--fail-on FAIL_ON" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "Missing command."),
        (["bogus"], "No such command 'bogus'."),
        (["latest", "nope"], "'nope' is not one of 'analysis', 'test-planning', 'implementation'"),
        (["latest", "analysis", "--data-dir", "d", "--repo", "u/n"], "not allowed with --data-dir"),
        (["tests"], "Missing option '--write'"),
        (["once", "analysis", "--iterations", "many"], "Invalid value for '--iterations'"),
        (["sarif", "--no-such-flag"], "No such option: --no-such-flag"),
    ],
    ids=["no-command", "unknown-command", "unknown-worker",
         "data-dir-and-repo", "missing-write", "not-a-number", "unknown-flag"],
)  # fmt: skip
def test_usage_errors_exit_2_with_the_usage_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("Usage: autocoder") and message in captured.err, captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_iterations_below_one_name_the_flag_or_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["once", "analysis", "--target", str(tmp_path), "--data-dir", str(tmp_path / "d")]
    assert main([*argv, "--iterations", "0"]) == 2
    assert capsys.readouterr().err == "autocoder: error: --iterations 0 must be at least 1\n"
    monkeypatch.setenv("AUTOCODER_ITERATIONS", "-1")
    assert main(argv) == 2
    assert (
        capsys.readouterr().err == "autocoder: error: AUTOCODER_ITERATIONS=-1 must be at least 1\n"
    )
    assert not (tmp_path / "d").exists()


def test_an_unusable_environment_breaks_commands_but_not_help(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOCODER_ITERATIONS", "many")
    assert main(["once", "--help"]) == 0
    assert "AUTOCODER_ITERATIONS" in capsys.readouterr().out
    assert main(["sarif", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autocoder: error: invalid settings: AUTOCODER_ITERATIONS: "), err


@pytest.mark.parametrize("variable", ["AUTOCODER_PORT", "GRADIO_SERVER_PORT"])
def test_a_bad_value_of_a_setting_with_two_names_names_the_variable_that_was_set(
    variable: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, "abc")
    assert main(["sarif", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"autocoder: error: invalid settings: {variable}: "), err


def test_fail_on_comes_from_the_environment_and_the_flag_wins(
    analysed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTOCODER_FAIL_ON", "critical")
    assert main(["gate", "--data-dir", str(analysed)]) == 0
    assert "PASSED: nothing at or above critical." in capsys.readouterr().out
    assert main(["gate", "--data-dir", str(analysed), "--fail-on", "high"]) == 1
    monkeypatch.setenv("AUTOCODER_FAIL_ON", "severe")
    assert main(["gate", "--data-dir", str(analysed)]) == 2
    assert "'severe' is not a severity" in capsys.readouterr().err


def test_an_error_line_hides_the_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "hf_" + "x7" * 12
    monkeypatch.setenv("HF_TOKEN", secret)
    data = tmp_path / secret
    data.write_text("a file where the data folder must be\n")
    assert main(["once", "analysis", "--target", str(tmp_path), "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    _assert_one_clear_line(err)
    assert secret not in err and "***" in err


# --- a fourth worker, added to the catalog at run time -------------------------------------

FOURTH = replace(
    ANALYSIS,
    name="fourth",
    title="Fourth Worker",
    dataset="autocoder-fourth-results",
    space="autocoder-fourth",
    folder="5_fourth_worker",
    load=f"{__name__}:fourth_spec",
)


def fourth_spec() -> WorkerSpec:
    """The fourth worker runs the analysis perspectives under its own name and dataset."""
    return replace(ANALYSIS.spec(), info=FOURTH)


def interrupted_spec() -> WorkerSpec:
    raise KeyboardInterrupt  # what Ctrl+C does while the command runs


@pytest.fixture
def fourth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "CATALOG", [*catalog.CATALOG, FOURTH])


def _choices(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([command, "--help"]) == 0
    return capsys.readouterr().out.split("Arguments:")[1].split("Options:")[0]


def test_a_worker_added_to_the_catalog_is_offered_run_and_read(
    tmp_path: Path, offline: None, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    assert "fourth" not in _choices("once", capsys)
    assert main(["latest", "fourth", "--data-dir", str(tmp_path)]) == 2
    capsys.readouterr()
    monkeypatch.setattr(catalog, "CATALOG", [*catalog.CATALOG, FOURTH])
    assert "<analysis|test-planning|implementation|fourth|dashboard|combined>" in _choices(
        "serve", capsys
    )
    assert "<analysis|test-planning|implementation|fourth>" in _choices("once", capsys)
    assert "<analysis|test-planning|implementation|fourth>" in _choices("latest", capsys)
    target = tmp_path / "target"
    target.mkdir()
    (target / "mod.py").write_text("import os\nvalue = 1\n")
    data = tmp_path / "data"
    assert main(["once", "fourth", "--target", str(target), "--data-dir", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["iteration"] == 1
    assert sorted(p.name for p in data.iterdir() if not p.name.startswith(".")) == [
        "autocoder-fourth-results"
    ]
    assert main(["latest", "fourth", "--data-dir", str(data)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["iteration"] == 1 and record["perspective_name"] == "Code Quality Analysis"


def test_up_starts_a_worker_added_to_the_catalog(
    tmp_path: Path, offline: None, fourth: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """``up`` builds every app before serving any: the fourth one's unusable folder stops it."""
    data = tmp_path / "data"
    (data / "autocoder-fourth-results" / "README.md").mkdir(parents=True)
    assert main(["up", "--target", str(tmp_path), "--data-dir", str(data), "--port", "0"]) == 2
    err = capsys.readouterr().err
    _assert_one_clear_line(err)
    assert str(data / "autocoder-fourth-results" / "README.md") in err


def test_ctrl_c_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    halted = replace(FOURTH, load=f"{__name__}:interrupted_spec")
    monkeypatch.setattr(catalog, "CATALOG", [*catalog.CATALOG, halted])
    assert main(["once", "fourth", "--target", str(tmp_path), "--data-dir", str(tmp_path)]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_serve_offers_every_worker_the_dashboard_and_the_combined_space(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "everything"]) == 2
    err = capsys.readouterr().err
    for name in [*worker_names(), "dashboard", "combined"]:
        assert f"'{name}'" in err, err
