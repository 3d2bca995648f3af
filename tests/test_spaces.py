"""Each Space folder runs as it would on a Space: its own app.py, card and requirements."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import gradio
import httpx
import pytest
import yaml

import autocoder
from autocoder.deploy.bundle import stage
from autocoder.deploy.spaces import separate_apps
from autocoder.errors import ConfigError

from appkit import free_port

ROOT = Path(__file__).parent.parent
DASHBOARD = "4_monitoring_dashboard"
SPACES = ["1_analysis_worker", "2_test_planning_worker", "3_implementation_worker", DASHBOARD]


def _card(folder: str) -> dict:
    text = (ROOT / folder / "README.md").read_text()
    return yaml.safe_load(text.split("---")[1])


def test_space_cards_pin_the_installed_gradio_and_name_app_py() -> None:
    for folder in SPACES:
        card = _card(folder)
        assert card["sdk"] == "gradio" and card["app_file"] == "app.py"
        assert card["sdk_version"] == gradio.__version__
        assert card["python_version"] and card["title"] and card["emoji"]
        assert len(card["short_description"]) <= 60


def _normalized(requirement: str) -> tuple[str, frozenset[str], str]:
    """Name, sorted specifier set and marker: ``a>=1,<2`` and ``a<2,>=1`` are the same."""
    spec, _sep, marker = requirement.partition(";")
    name = re.split(r"[<>=!~\s]", spec, maxsplit=1)[0].strip().lower()
    specifiers = frozenset(part.strip() for part in spec[len(name) :].split(",") if part.strip())
    return name, specifiers, marker.strip()


def test_space_requirements_match_the_package_dependencies() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for folder in SPACES:
        lines = (ROOT / folder / "requirements.txt").read_text().splitlines()
        listed = [line for line in lines if line and not line.startswith("#")]
        assert [_normalized(line) for line in listed] == [_normalized(d) for d in declared], folder
    dashboard = (ROOT / DASHBOARD / "requirements.txt").read_text()
    assert "plotly" in {_normalized(line)[0] for line in dashboard.splitlines()}


def test_space_folders_are_exactly_what_deploy_renders(tmp_path: Path) -> None:
    """Re-render them with ``python -c "from pathlib import Path; from autocoder.deploy.bundle
    import write_repo_folders as w; w(Path.cwd())"`` in the checkout."""
    for app in separate_apps():
        staged = stage(app.name, tmp_path / app.name)
        rendered = [name for name in staged if not name.startswith("autocoder/")]
        assert rendered == ["README.md", "app.py", "requirements.txt"]
        in_repo = sorted(p.name for p in (ROOT / str(app.folder)).iterdir() if p.is_file())
        assert in_repo == rendered, app.folder
        for name in rendered:
            assert (ROOT / str(app.folder) / name).read_bytes() == (
                tmp_path / app.name / name
            ).read_bytes(), f"{app.folder}/{name} differs from what deploy renders"


def test_staged_space_holds_the_installed_library_without_bytecode(tmp_path: Path) -> None:
    staged = stage("combined", tmp_path)
    library = Path(autocoder.__file__).parent
    expected = sorted(
        f"autocoder/{p.relative_to(library).as_posix()}"
        for p in library.rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert [name for name in staged if name.endswith(".py") and name != "app.py"] == expected
    assert not [name for name in staged if "__pycache__" in name or name.endswith(".pyc")]
    assert staged == sorted(staged)
    assert (
        sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
        == staged
    )
    assert 'run_space("combined")' in (tmp_path / "app.py").read_text()
    assert (
        "every autocoder worker and the monitoring dashboard"
        in (tmp_path / "README.md").read_text()
    )


def test_stage_refuses_an_unknown_app_naming_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'nope'.*analysis.*dashboard.*combined"):
        stage("nope", tmp_path)


def test_space_app_py_serves_the_worker_and_stops_cleanly(shop_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "AUTOCODER_TARGET": str(shop_dir),
        "AUTOCODER_DATA_DIR": str(tmp_path / "data"),
        "AUTOCODER_PORT": str(port),
        "AUTOCODER_NETWORK": "0",
        "AUTOCODER_INTERVAL_S": "0.5",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "1_analysis_worker" / "app.py")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.time() + 60
        health: dict = {}
        while time.time() < deadline and health.get("iteration", 0) < 1:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health").json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health["worker"] == "analysis" and health["iteration"] >= 1
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert f"Analysis Worker: http://127.0.0.1:{port}/" in output
    assert re.search(r"analysis stopped after iteration \d+", output), output
