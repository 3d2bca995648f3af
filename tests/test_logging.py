"""Secrets never reach a log line: messages, arguments and tracebacks are masked."""

from __future__ import annotations

import asyncio
import logging

from autocoder.engine.logbuffer import RingBuffer, install_logging, logged_as


def test_secret_values_are_masked_in_messages_arguments_and_tracebacks() -> None:
    secret = "super-secret-token-value"
    ring = install_logging([secret, None])
    log = logging.getLogger("autocoder.test")
    log.info("cloning with %s", secret)
    try:
        raise RuntimeError(f"remote said {secret}")
    except RuntimeError:
        log.exception("clone failed")
    text = "\n".join(ring.lines)
    assert secret not in text
    assert "cloning with ***" in text and "RuntimeError: remote said ***" in text


def test_installing_twice_keeps_one_set_of_handlers() -> None:
    install_logging([])
    install_logging([])
    ours = [h for h in logging.getLogger("autocoder").handlers if getattr(h, "_autocoder", False)]
    assert len(ours) == 2


def test_cli_flags_override_settings_read_under_an_alias() -> None:
    from autocoder.settings import load_settings

    assert load_settings(port=7999).port == 7999


def test_each_worker_sees_its_own_newest_lines_and_the_process_lines() -> None:
    ring = install_logging([])
    log = logging.getLogger("autocoder.test")
    log.info("process starts")

    async def worker(name: str) -> None:
        with logged_as(name):
            for number in range(5):
                log.info("%s line %d", name, number)
                await asyncio.to_thread(log.info, "%s thread line %d", name, number)
                await asyncio.sleep(0)

    async def both() -> None:
        await asyncio.gather(worker("analysis"), worker("test-planning"))

    asyncio.run(both())
    log.info("process ends")
    shown = ring.recent("analysis", 4)
    assert len(shown) == 4
    assert "process ends" in shown[0]  # newest first; process-wide lines belong to every page
    assert "analysis thread line 4" in shown[1] and "analysis line 4" in shown[2]
    everything = ring.recent("analysis", 100)
    assert not any("test-planning" in line for line in everything)
    assert any("test-planning line 0" in line for line in ring.recent("test-planning", 100))
    assert "process starts" in everything[-1]  # the oldest last


def test_the_buffer_keeps_only_the_newest_entries() -> None:
    ring = RingBuffer(size=3)
    ring.setLevel(logging.INFO)
    log = logging.getLogger("autocoder.test.small")
    log.addHandler(ring)
    try:
        for number in range(5):
            log.warning("entry %d", number)
    finally:
        log.removeHandler(ring)
    assert [line.rsplit(" ", 1)[-1] for line in ring.lines] == ["2", "3", "4"]
