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
import yaml

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


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower()


def test_space_requirements_match_the_package_dependencies() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for folder in SPACES:
        lines = (ROOT / folder / "requirements.txt").read_text().splitlines()
        listed = [line for line in lines if line and not line.startswith("#")]
        assert listed[: len(declared)] == declared, folder
    dashboard = (ROOT / DASHBOARD / "requirements.txt").read_text()
    assert {"pandas", "plotly"} <= {_name(line) for line in dashboard.splitlines()}


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
