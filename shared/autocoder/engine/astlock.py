"""One ``ast.parse`` at a time, on the Python versions where two at once can fail.

CPython 3.11 keeps the AST validator's recursion depth per interpreter, not per thread
(gh-106905): two threads parsing at once, as ``autocoder up`` does with every worker in one
process, can make either raise ``SystemError: AST constructor recursion depth mismatch``. The
analysers call ``ast.parse`` themselves (radon, griffe), so the function is wrapped where it
lives, once, with a lock; parsing holds the GIL anyway, so nothing is lost but the race.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading
from typing import Any

_LOCK = threading.RLock()
_ORIGINAL = ast.parse


def install() -> None:
    """Wrap ``ast.parse`` on CPython 3.11 (a no-op elsewhere, and when already wrapped)."""
    if sys.version_info >= (3, 12) or getattr(ast.parse, "__autocoder_locked__", False):
        return

    @functools.wraps(_ORIGINAL)
    def parse(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return _ORIGINAL(*args, **kwargs)

    parse.__autocoder_locked__ = True  # type: ignore[attr-defined]
    ast.parse = parse
