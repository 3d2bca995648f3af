"""Commands that fail cleanly, as a user meets them: a port in use, a data folder that is a file
or read-only, a bad target quoted as typed, output piped into ``head``. Each is one line on
stderr, exit status 2 (1 for a closed pipe), no traceback, and no record written."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from autocoder.apps.launch import _free_block
from autocoder.cli import main

from enginekit import LongLines, make_worker

READ_ONLY = Path("/proc/self")  # not writable, even by root (chmod does not stop root)


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "target"
    folder.mkdir()
    (folder / "mod.py").write_text("value = 1\n")
    return folder


@pytest.fixture
def taken_port() -> object:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith("autocoder: error: "), err
    return err.removeprefix("autocoder: error: ").strip()


def _records(data: Path) -> list[Path]:
    return list(data.rglob("*.jsonl")) if data.exists() else []


@pytest.mark.parametrize("offset", [0, 1], ids=["dashboard-port", "worker-port"])
def test_port_in_use_fails_before_any_record_naming_the_flag(
    tmp_path: Path, target: Path, taken_port: int, offset: int, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    first = taken_port - offset
    args = ["up", "--target", str(target), "--data-dir", str(data), "--port", str(first)]
    assert main(args) == 2
    message = _one_line(capsys.readouterr().err)
    named = f"--port {first}" if offset == 0 else f"port {taken_port} (--port {first} + 1)"
    assert message.startswith(f"{named} on 127.0.0.1 cannot be used (Address already in use)")
    assert "choose another with --port" in message
    assert _records(data) == []


def test_port_in_use_from_the_environment_names_the_variable(
    tmp_path: Path,
    target: Path,
    taken_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AUTOCODER_PORT", str(taken_port))
    assert main(["serve", "analysis", "--target", str(target), "--data-dir", str(tmp_path)]) == 2
    assert _one_line(capsys.readouterr().err).startswith(f"AUTOCODER_PORT={taken_port} on ")
    assert _records(tmp_path) == []


def test_up_with_no_port_given_takes_the_next_free_block_and_says_so(
    taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    sockets = _free_block("127.0.0.1", taken_port, 3)
    try:
        ports = [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    assert len(ports) == 3 and ports == list(range(ports[0], ports[0] + 3))
    assert ports[0] >= taken_port + 3  # the taken port's block was skipped whole
    last = ports[0] + 2
    assert capsys.readouterr().out == (
        f"port {taken_port} is in use; serving on {ports[0]}-{last}\n"
    )


def test_a_free_default_block_is_used_without_a_word(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    sockets = _free_block("127.0.0.1", free, 1)
    assert [sock.getsockname()[1] for sock in sockets] == [free]
    sockets[0].close()
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("command", [["once", "analysis"], ["up"]])
def test_a_data_dir_that_is_a_file_is_one_line_and_nothing_is_written(
    tmp_path: Path, target: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x\n")
    port = ["--port", "0"] if command == ["up"] else []
    assert main([*command, "--target", str(target), "--data-dir", str(a_file), *port]) == 2
    assert _one_line(capsys.readouterr().err) == (
        f"--data-dir '{a_file}' is a file, not a folder; point --data-dir (AUTOCODER_DATA_DIR) "
        "at a folder"
    )
    assert a_file.read_text() == "x\n"


@pytest.mark.skipif(not READ_ONLY.is_dir(), reason="needs Linux /proc")
def test_a_read_only_data_dir_from_the_environment_is_one_line_naming_the_variable(
    target: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = READ_ONLY / "autocoder-data"
    monkeypatch.setenv("AUTOCODER_DATA_DIR", str(data))
    assert main(["once", "analysis", "--target", str(target)]) == 2
    assert _one_line(capsys.readouterr().err) == (
        f"AUTOCODER_DATA_DIR='{data}' is not writable ({READ_ONLY} is read-only); point "
        "--data-dir (AUTOCODER_DATA_DIR) at a writable folder"
    )


def test_a_missing_target_is_quoted_as_typed_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert main(["once", "analysis", "--target", "/nonexistent", "--data-dir", str(data)]) == 2
    assert _one_line(capsys.readouterr().err).startswith("--target '/nonexistent' does not exist")
    monkeypatch.setenv("AUTOCODER_TARGET", "/nonexistent")
    assert main(["up", "--data-dir", str(data), "--port", "0"]) == 2
    assert _one_line(capsys.readouterr().err).startswith(
        "AUTOCODER_TARGET='/nonexistent' does not exist"
    )
    assert not data.exists()


@pytest.fixture
async def analysed(shop_dir: Path, tmp_path: Path) -> Path:
    """A data folder with one record in the analysis dataset."""
    worker = make_worker(shop_dir, tmp_path / "data", LongLines())
    await worker.run(iterations=1)
    worker.store.root.rename(worker.store.root.with_name("autocoder-analysis-results"))
    return tmp_path / "data"


def test_output_piped_into_a_reader_that_left_ends_quietly(analysed: Path) -> None:
    command = [sys.executable, "-m", "autocoder.cli", "latest", "analysis"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(analysed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # `| head` that has read all it wanted
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1
    assert err == ""
