"""Recent log lines for the app, with secrets masked in every line that leaves the process:
the worker's own tokens, and any secret from the target that an exception message quotes."""

from __future__ import annotations

import logging
from collections import deque

from autocoder.errors import redact
from autocoder.redaction import redact_text

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
    """Keeps the last ``size`` formatted lines."""

    def __init__(self, size: int = 200) -> None:
        super().__init__()
        self.lines: deque[str] = deque(maxlen=size)
        self.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


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
