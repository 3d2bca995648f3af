"""Each Space folder boots on its own: staged as ``autocoder deploy`` uploads it, in a clean venv.

For each app the files ``autocoder.deploy.bundle.stage`` writes go into a temporary folder, a venv
is made from that folder's ``requirements.txt`` only (no repo venv, no system site-packages), and
``python app.py`` runs from the folder with ``SPACE_ID`` set, in local mode (no HF token, the Hub
endpoint out of reach). The test waits for ``GET /health``, calls the app's ``gradio_client``
endpoint and stops it with SIGTERM. Venvs are keyed by the content of ``requirements.txt``:
byte-identical files share one venv (today every app's file is the same, rendered from the
catalog, so one venv serves the whole session), kept compiled under ``~/.cache/autocoder-tests``
for later runs. A first run needs the package index; an install failure fails, never skips.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from autocoder.workers.catalog import worker_names

from appkit import free_port
from spacekit import (
    ADMIN_TOKEN,
    BootedSpace,
    SpaceBootFailed,
    booted,
    cached_venv,
    space_env,
    stage_space,
    stop,
    tiny_target,
)

WORKERS = tuple(worker_names())  # a worker added to the catalog is booted too
pytestmark = pytest.mark.timeout(900)  # a first run installs and compiles a venv


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return tiny_target(tmp_path / "target")


def _staged(app: str, tmp_path: Path) -> Path:
    folder = tmp_path / "space"
    folder.mkdir()
    files = stage_space(app, folder)
    assert "app.py" in files and "requirements.txt" in files, files
    return folder


def _call(url: str, api_name: str) -> Any:
    client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
    return client.predict(api_name=api_name)


def _assert_stops_cleanly(space: BootedSpace, said: str = "") -> None:
    """SIGTERM ends it: uvicorn shuts down gracefully, then re-raises the signal (status -15).
    Its whole output, start to stop, never shows the admin token it was given."""
    code = stop(space)
    assert code in (0, -signal.SIGTERM), space.failure(f"SIGTERM ended it with status {code}")
    assert said in space.output(), space.failure(f"no {said!r} in its output after SIGTERM")
    assert ADMIN_TOKEN not in space.output(), "the admin token appeared in the app's output"


@pytest.mark.parametrize("app", WORKERS)
def test_worker_space_folder_boots_standalone_and_answers_status(
    app: str, tmp_path: Path, target: Path
) -> None:
    folder = _staged(app, tmp_path)
    python = cached_venv(folder / "requirements.txt")
    with booted(folder, python, space_env(app, tmp_path, free_port(), target)) as space:
        status = _call(space.url, "/status")
        assert status["worker"] == app, space.failure(f"/status answered {status!r}")
        assert status["state"] != "failed", space.failure(f"/status answered {status!r}")
        assert str(target) in status["target"], space.failure(f"/status answered {status!r}")
        _assert_stops_cleanly(space, f"{app} stopped after iteration")


def test_dashboard_space_folder_boots_standalone_and_answers_summary(
    tmp_path: Path, target: Path
) -> None:
    folder = _staged("dashboard", tmp_path)
    python = cached_venv(folder / "requirements.txt")
    with booted(folder, python, space_env("dashboard", tmp_path, free_port(), target)) as space:
        summary = _call(space.url, "/summary")
        assert isinstance(summary, dict) and "workers" in summary, space.failure(
            f"/summary answered {summary!r}"
        )
        _assert_stops_cleanly(space)


def test_combined_space_folder_boots_standalone_with_every_worker_and_the_dashboard(
    tmp_path: Path, target: Path
) -> None:
    folder = _staged("combined", tmp_path)
    python = cached_venv(folder / "requirements.txt")
    with booted(folder, python, space_env("combined", tmp_path, free_port(), target)) as space:
        summary = _call(space.url, "/summary")
        assert isinstance(summary, dict) and "workers" in summary, space.failure(
            f"/summary answered {summary!r}"
        )
        for name in worker_names():
            status = _call(f"{space.url}/{name}/", "/status")
            assert status["worker"] == name, space.failure(f"/{name}/ /status: {status!r}")
            assert status["state"] != "failed", space.failure(f"/{name}/ /status: {status!r}")
        _assert_stops_cleanly(space, "stopped after iteration")


def test_space_venv_holds_only_the_requirements_not_autocoder(tmp_path: Path) -> None:
    """The library must come from the staged folder: the venv itself cannot import it."""
    folder = _staged("analysis", tmp_path)
    python = cached_venv(folder / "requirements.txt")
    probe = subprocess.run(
        [str(python), "-c", "import autocoder"], cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, check=False,
    )  # fmt: skip
    assert probe.returncode != 0 and "No module named 'autocoder'" in probe.stderr, probe.stderr


def test_space_missing_a_requirement_fails_with_the_import_error(
    tmp_path: Path, target: Path
) -> None:
    folder = _staged("analysis", tmp_path)
    requirements = folder / "requirements.txt"
    lines = requirements.read_text().splitlines()
    kept = [line for line in lines if not line.startswith("pydantic-settings")]
    assert len(kept) == len(lines) - 1, "the stage no longer lists pydantic-settings: pick another"
    requirements.write_text("\n".join(kept) + "\n")
    python = cached_venv(requirements, compile_bytecode=False)  # it only has to fail
    with (
        pytest.raises(SpaceBootFailed, match="No module named 'pydantic_settings'"),
        booted(folder, python, space_env("analysis", tmp_path, free_port(), target)),
    ):
        pass


def test_space_without_its_bundled_library_fails_to_import_autocoder(
    tmp_path: Path, target: Path
) -> None:
    """What works only in the repo (the library in ../shared) is not there on a Space."""
    folder = _staged("analysis", tmp_path)
    shutil.rmtree(folder / "autocoder")
    python = cached_venv(folder / "requirements.txt")
    with (
        pytest.raises(SpaceBootFailed, match="No module named 'autocoder'"),
        booted(folder, python, space_env("analysis", tmp_path, free_port(), target)),
    ):
        pass


def test_space_requirements_that_cannot_install_fail_with_uvs_error(tmp_path: Path) -> None:
    """No skip when the venv cannot be made: the failure says what uv said."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic>=999\n")
    with pytest.raises(SpaceBootFailed, match=r"(?s)uv pip install .*you require pydantic>=999"):
        cached_venv(requirements, tmp_path / "venvs")
    assert list((tmp_path / "venvs").iterdir()) == [], "a failed build left a venv behind"
