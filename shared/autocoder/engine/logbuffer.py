"""Recent log lines for the app, with secrets masked in every line that leaves the process:
the worker's own tokens, and any secret from the target that an exception message quotes.

Several apps can share one process (``autocoder up``) and so one buffer: each entry remembers
which worker logged it (:data:`LOG_SOURCE`, set in the worker's task and inherited by the
threads ``asyncio.to_thread`` starts), so each worker page shows its own lines.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Iterator
from contextvars import ContextVar

from autocoder.errors import redact
from autocoder.redaction import redact_text

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
BUFFER_ENTRIES = 1000  # shared by every app of the process: room for each one's recent lines
# The worker whose task is logging; None for process-wide lines (start-up, other threads).
LOG_SOURCE: ContextVar[str | None] = ContextVar("autocoder_log_source", default=None)


@contextlib.contextmanager
def logged_as(source: str) -> Iterator[None]:
    """Attribute the lines logged inside the block (and the threads it starts) to ``source``."""
    token = LOG_SOURCE.set(source)
    try:
        yield
    finally:
        LOG_SOURCE.reset(token)


class RedactingFilter(logging.Filter):
    """Masks secret values in every record's message (attach it to handlers)."""

    def __init__(self, secrets: list[str | None]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def _mask(self, text: str) -> str:
        return redact_text(redact(text, list(self.secrets)))[0]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._mask(record.getMessage())
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
            record.msg = f"{record.msg}\n{self._mask(text)}"
        return True


class RingBuffer(logging.Handler):
    """Keeps the last ``size`` formatted entries, each with the worker that logged it."""

    def __init__(self, size: int = BUFFER_ENTRIES) -> None:
        super().__init__()
        self.entries: deque[tuple[str | None, str]] = deque(maxlen=size)
        self.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append((LOG_SOURCE.get(), self.format(record)))

    @property
    def lines(self) -> list[str]:
        """Every entry, oldest first, whoever logged it."""
        return [line for _source, line in self.entries]

    def recent(self, source: str, limit: int) -> list[str]:
        """The newest ``limit`` entries of ``source`` and of the process itself, newest first.

        Another worker's entries are left out: with ``autocoder up`` each page shows its own.
        """
        wanted = (source, None)
        newest: list[str] = []
        for logged_by, line in reversed(self.entries):
            if logged_by in wanted:
                newest.append(line)
                if len(newest) == limit:
                    break
        return newest


def install_logging(secrets: list[str | None], level: int = logging.INFO) -> RingBuffer:
    """Log to stderr and to a ring buffer, both through the redacting filter. Idempotent."""
    logger = logging.getLogger("autocoder")
    for handler in list(logger.handlers):
        if getattr(handler, "_autocoder", False):
            logger.removeHandler(handler)
    ring = RingBuffer()
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter(FORMAT))
    handlers: list[logging.Handler] = [ring, stream]
    for handler in handlers:
        handler.addFilter(RedactingFilter(secrets))
        setattr(handler, "_autocoder", True)  # noqa: B010 - marks ours for the next call
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return ring
