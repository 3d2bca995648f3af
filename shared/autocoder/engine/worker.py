"""The loop: one perspective per iteration, one record per iteration, whatever happens.

Shaped like arq's worker: ``run`` polls on an interval and calls :meth:`Worker.run_iteration`,
which never raises for a bad iteration: a perspective that raises or times out becomes an error
record and the rotation moves on. Blocking work (checkout, analysers, writes) runs in threads.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autocoder.engine import handoff
from autocoder.engine.cache import ResultCache
from autocoder.engine.perspective import (
    ModelAsk,
    Perspective,
    PerspectiveResult,
    RunContext,
    RunOptions,
)
from autocoder.engine.sources import SourceFiles
from autocoder.engine.spec import WorkerSpec
from autocoder.engine.target import Checkout, Target
from autocoder.errors import AutocoderError, ConfigError, PerspectiveSkipped, StoreError, redact
from autocoder.schema import Record, TargetRef, utc_timestamp
from autocoder.store.hub import HubSync
from autocoder.store.local import LocalStore
from autocoder.store.reader import DatasetReader

RUST_PANIC = "PanicException"  # a Rust extension's panic (pyo3): a BaseException, not Exception

log = logging.getLogger("autocoder.worker")
STORE_RETRY_S = 1.0  # first wait after a failed write; doubles up to STORE_BACKOFF_MAX_S
STORE_BACKOFF_MAX_S = 300.0
STORE_ATTEMPTS = 3  # failed writes in a row after which a bounded run (``once``) gives up
SKIPPED_FILES_NAMED = 10  # skipped files named in a record (all of them are counted)


@dataclass
class Outcome:
    status: str
    error: str | None
    result: PerspectiveResult | None
    checkout: Checkout | None
    state: dict[str, Any] | None = None  # a skipped perspective's state for its next run


def note_skipped_files(result: PerspectiveResult, sources: SourceFiles) -> PerspectiveResult:
    """Say in the result (and so in every ok record) which files nothing read, and why:
    ``skipped["files"]`` is a sentence when there are any, ``metrics["skipped_files"]`` counts
    them per reason and names the first few."""
    first = dict(list(sources.skipped.items())[:SKIPPED_FILES_NAMED])
    result.metrics["skipped_files"] = {
        "total": len(sources.skipped), "by_reason": sources.skipped_counts(), "first": first,
    }  # fmt: skip
    if sources.skipped:
        result.skipped["files"] = sources.skipped_summary()
    return result


class Worker:
    """Runs a :class:`WorkerSpec` against a :class:`Target`, writing to a :class:`LocalStore`."""

    def __init__(
        self,
        spec: WorkerSpec,
        store: LocalStore,
        target: Target,
        cache: ResultCache,
        options: RunOptions | None = None,
        interval_s: float | None = None,
        iteration_timeout_s: float = 900.0,
        hub: HubSync | None = None,
        secrets: list[str | None] | None = None,
        peers: Callable[[str], DatasetReader | None] | None = None,
        perspective_of: Callable[[str], Perspective | None] | None = None,
        publish: Callable[[Any, Path], Any] | None = None,
        ask_model: ModelAsk | None = None,
    ) -> None:
        self.interval_s = spec.default_interval_s if interval_s is None else interval_s
        if self.interval_s < 0 or iteration_timeout_s <= 0:
            raise ConfigError(
                f"interval {self.interval_s!r}s must be >= 0 and iteration timeout "
                f"{iteration_timeout_s!r}s > 0 "
                "(AUTOCODER_INTERVAL_S, AUTOCODER_ITERATION_TIMEOUT_S)"
            )
        self.spec, self.store, self.target, self.cache, self.hub = spec, store, target, cache, hub
        self.options = options or RunOptions()
        self.iteration_timeout_s = iteration_timeout_s
        self._secrets = secrets or []
        self._peers = peers or (lambda _name: None)
        self._perspective_of = perspective_of or (lambda _name: None)
        self._publish = publish
        self._ask_model = ask_model
        self._sources: SourceFiles | None = None  # the last snapshot: its hashes are reused
        self.running = True  # start/stop controls flip this; the loop itself lives until close()
        self.current: str | None = None
        self.next_run_at: float | None = None
        self.last_completed_at: float | None = None
        self.last_error: str | None = None
        self.last_store_error: str | None = None  # why the last write failed; None once one works
        self._store_failures = 0  # writes failed in a row: the next try backs off
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._restore()

    def __repr__(self) -> str:
        return f"Worker({self.spec.name}, {self.target!r} -> {self.store!r})"

    def _restore(self) -> None:
        latest = self.store.latest()
        state = self.store.state()
        self.iteration = latest["iteration"] if latest else 0
        self.position = 0
        if latest is not None:
            done = self.spec.registry.position_of(latest["perspective_id"])
            self.position = 0 if done is None else done + 1
        self.insights = self.spec.new_insights(state.get("insights", {}))
        self.perspective_states: dict[str, Any] = dict(state.get("perspectives", {}))
        self.handoffs = handoff.Handoffs.restore(state, self.iteration)
        if latest:
            log.info("%s resumes after iteration %d", self.spec.name, self.iteration)

    @property
    def next_perspective(self) -> Perspective:
        return self.spec.registry.at(self.position)

    # -- one iteration ---------------------------------------------------------------------------
    async def run_iteration(self) -> Record:
        iteration, perspective = self.iteration + 1, self.next_perspective
        self.current, started, timestamp = perspective.name, time.monotonic(), utc_timestamp()
        log.info("iteration %d: %s", iteration, perspective.name)
        outcome = await self._attempt(perspective)
        checkout = outcome.checkout
        self.insights.apply(iteration, perspective, outcome.status, outcome.result)
        record = Record(
            iteration=iteration,
            timestamp=timestamp,
            worker=self.spec.name,
            perspective_id=perspective.id,
            perspective_name=perspective.name,
            target=TargetRef(
                repo=checkout.repo if checkout else self.target.display,
                commit=checkout.commit if checkout else None,
            ),
            status=outcome.status,  # type: ignore[arg-type]
            error=outcome.error,
            duration_s=round(time.monotonic() - started, 3),
            analysis=self.spec.analysis_of(outcome.result, outcome.error or ""),
            cumulative_insights=self.insights.summary(),
        )
        if outcome.result is not None:
            self.perspective_states[perspective.id] = outcome.result.state
        elif outcome.state is not None:
            self.perspective_states[perspective.id] = outcome.state
        items = self.spec.item_rows(record, outcome.result) if outcome.result else {}
        handoffs = self.handoffs  # only an ok iteration hands on: see engine/handoff.py
        if outcome.status == "ok" and outcome.result is not None:
            handoffs = handoffs.advanced(iteration, perspective.id, outcome.result.handoff)
        state = {"insights": self.insights.to_state(), "perspectives": self.perspective_states,
                 handoff.STATE_KEY: handoffs.to_state()}  # fmt: skip
        await asyncio.to_thread(self.store.append, record, items, state)
        self.iteration, self.position, self.handoffs = iteration, self.position + 1, handoffs
        self.last_completed_at, self.current = time.time(), None
        self.last_error = outcome.error
        log.info(
            "iteration %d: %s %s in %.1fs%s", iteration, perspective.name, outcome.status,
            record.duration_s, f" ({outcome.error})" if outcome.error else "",
        )  # fmt: skip
        return record

    async def _attempt(self, perspective: Perspective) -> Outcome:
        checkout: Checkout | None = None
        try:
            checkout = await asyncio.to_thread(self.target.prepare)
            result = await asyncio.wait_for(
                asyncio.to_thread(self._run_perspective, perspective, checkout),
                self.iteration_timeout_s,
            )
            return Outcome("ok", None, result, checkout)
        except PerspectiveSkipped as e:
            return Outcome("skipped", str(e), None, checkout, e.state)
        except TimeoutError:
            message = (
                f"{perspective.name} did not finish within {self.iteration_timeout_s:g}s; "
                "raise AUTOCODER_ITERATION_TIMEOUT_S"
            )
            return Outcome("error", message, None, checkout)
        except AutocoderError as e:
            return Outcome("error", redact(str(e), self._secrets), None, checkout)
        except BaseException as e:  # a bug in one perspective must not stop the worker
            if not isinstance(e, Exception) and type(e).__name__ != RUST_PANIC:
                raise  # cancelled, interrupted, exiting: not the perspective's failure
            log.exception("%s crashed", perspective.name)
            return Outcome(
                "error", redact(f"{type(e).__name__}: {e}", self._secrets), None, checkout
            )

    def _run_perspective(self, perspective: Perspective, checkout: Checkout) -> PerspectiveResult:
        self._sources = SourceFiles.discover(
            checkout.root, self._sources, self.options.max_file_bytes, self.cache
        )
        ctx = RunContext(
            root=checkout.root,
            commit=checkout.commit,
            sources=self._sources,
            cache=self.cache,
            options=self.options,
            previous_state=dict(self.perspective_states.get(perspective.id, {})),
            reader=self.store.reader,
            peers=self._peers,
            handoff=copy.deepcopy(self.handoffs.current.data),
            handoff_from=self.handoffs.current.perspective_id,
            perspective_of=self._perspective_of,
            publish=self._publish,
            ask_model=self._ask_model,
        )
        result = perspective.run(ctx)
        result.handoff = handoff.checked(perspective.name, result.handoff)
        return note_skipped_files(result, self._sources)

    # -- the loop --------------------------------------------------------------------------------
    async def run(self, iterations: int | None = None) -> None:
        """Run iterations every ``interval_s`` until :meth:`close` (or ``iterations`` are done).

        A write that fails (a full disk) is retried with a growing delay; with ``iterations``
        given (``autocoder once``) the run gives up after STORE_ATTEMPTS failures in a row.
        """
        done = 0
        while not self._closing.is_set() and (iterations is None or done < iterations):
            if not self.running:
                self.next_run_at = None
                await self._sleep(None)
                continue
            started = time.monotonic()
            try:
                await self.run_iteration()
                done += 1
                self._store_failures, self.last_store_error = 0, None
            except (StoreError, OSError) as e:  # e.g. a full disk: nothing written, retried later
                self._store_failed(e, give_up=iterations is not None)
            if iterations is not None and done >= iterations:
                break
            delay = max(0.0, started + self.interval_s - time.monotonic(), self._store_backoff())
            self.next_run_at = time.time() + delay
            await self._sleep(delay)
        self.current = None

    def _store_failed(self, error: Exception, give_up: bool) -> None:
        self._store_failures += 1
        self.last_error = self.last_store_error = redact(str(error), self._secrets)
        log.error("iteration %d was not stored: %s", self.iteration + 1, self.last_error)
        if give_up and self._store_failures >= STORE_ATTEMPTS:
            raise StoreError(
                f"iteration {self.iteration + 1} was not stored after {self._store_failures} "
                f"attempts: {self.last_error}"
            ) from None

    def _store_backoff(self) -> float:
        """Seconds to wait before the next try after failed writes: 0 when the last one worked."""
        if not self._store_failures:
            return 0.0
        return float(min(STORE_BACKOFF_MAX_S, STORE_RETRY_S * 2 ** (self._store_failures - 1)))

    async def _sleep(self, seconds: float | None) -> None:
        self._wake.clear()
        waiters = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self._closing.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def start(self) -> None:
        self.running = True
        self._wake.set()
        log.info("%s started", self.spec.name)

    def stop(self) -> None:
        self.running = False
        self._wake.set()
        log.info("%s stopped (the running iteration, if any, finishes)", self.spec.name)

    def close(self) -> None:
        self._closing.set()

    def status(self) -> dict[str, Any]:
        return {
            "worker": self.spec.name,
            "state": "running" if self.running else "stopped",
            "iteration": self.iteration,
            "current_perspective": self.current,
            "next_perspective": self.next_perspective.name,
            "next_run_at": self.next_run_at,
            "last_completed_at": self.last_completed_at,
            "interval_s": self.interval_s,
            "target": self.target.display,
            "store": repr(self.store),
            "hub": self.hub.status() if self.hub else None,
            "last_error": self.last_error,
            "last_store_error": self.last_store_error,
        }
