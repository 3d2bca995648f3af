"""Secrets never reach a log line: messages, arguments and tracebacks are masked."""

from __future__ import annotations

import logging

from autocoder.engine.logbuffer import install_logging


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
