"""Parsing from many threads at once, as `autocoder up` does with every worker in one process,
never fails with CPython 3.11's shared AST recursion counter (gh-106905)."""

from __future__ import annotations

import ast
import gc
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

import autocoder.engine  # noqa: F401  (installs the lock)

# Deep enough to use the recursion counter, long enough for a collection mid-parse.
SOURCE = "x = " + "[" * 80 + "1" + "]" * 80 + "\n" + "def f():\n    return {'a': [1, (2,)]}\n" * 50


@pytest.fixture
def collections_that_switch_threads() -> Iterator[None]:
    """Frequent collections, each running Python code: another thread gets the GIL mid-parse,
    which is how two parses interleave (one did in `autocoder up`, in radon)."""
    threshold = gc.get_threshold()
    callback = lambda _phase, _info: time.sleep(0)  # noqa: E731
    gc.set_threshold(5, 1, 1)
    gc.callbacks.append(callback)
    try:
        yield
    finally:
        gc.callbacks.remove(callback)
        gc.set_threshold(*threshold)


def test_ast_parse_is_wrapped_on_the_versions_that_need_it() -> None:
    assert getattr(ast.parse, "__autocoder_locked__", False) == (sys.version_info < (3, 12))


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the race is CPython 3.11's")
def test_threads_parsing_at_once_never_hit_the_shared_recursion_counter(
    collections_that_switch_threads: None,
) -> None:
    def parse(_: int) -> int:
        failures = 0
        for _ in range(20):
            try:
                ast.parse(SOURCE)
            except SystemError:  # without the lock: "AST constructor recursion depth mismatch"
                failures += 1
        return failures

    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(parse, range(4))) == 0
