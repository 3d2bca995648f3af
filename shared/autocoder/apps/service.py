"""A worker assembled from settings: local store, optional Hub sync, target, cache, loop."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, stop_never

from autocoder.engine.cache import ResultCache
from autocoder.engine.logbuffer import logged_as
from autocoder.engine.perspective import Perspective, RunOptions
from autocoder.engine.spec import WorkerSpec
from autocoder.engine.target import Target
from autocoder.engine.worker import Worker
from autocoder.errors import AutocoderError, redact
from autocoder.llm import ChatModel, Completion, TokenBudget, ask, model_from_settings
from autocoder.publish import Publishable, Published, publish, remote_of
from autocoder.schema import TASKS, utc_timestamp
from autocoder.settings import Settings
from autocoder.store.dataset import Dataset
from autocoder.store.hub import HubSync
from autocoder.store.layout import atomic_write
from autocoder.store.local import LocalStore
from autocoder.store.locate import open_dataset
from autocoder.store.reader import recent_records
from autocoder.store.retry import RetryAfterOrBackoff, StopAfterWaiting, failure, retry_outages
from autocoder.store.tasklog import requeue_running
from autocoder.workers import catalog

log = logging.getLogger("autocoder.service")
SHUTDOWN_GRACE_S = 30.0  # how long shutdown waits for the running iteration before cancelling it


class WorkerService:
    """Owns one worker's parts and their lifetime. :meth:`run` is the task an app or CLI awaits.

    In Hub mode the worker is only built after the Hub answered: its iteration counter and
    rotation come from the Hub on a fresh disk, so an outage at start-up means waiting, never
    starting again at iteration 1 and overwriting shards.
    """

    def __init__(self, spec: WorkerSpec, settings: Settings) -> None:
        self.spec, self.settings = spec, settings
        self.store = LocalStore(
            settings.data_dir / spec.dataset,
            spec.title,
            spec.description,
            spec.configs,
            max_shard_bytes=settings.max_shard_bytes,
        )
        token = settings.hf_token.get_secret_value() if settings.hf_token else None
        repo_id = settings.repo_id(spec.dataset)
        self.hub = (
            HubSync(self.store, repo_id, token, settings.hub_private, settings.push_every_s)
            if settings.hub_mode and token and repo_id
            else None
        )
        self.target = Target(
            settings.target,
            # one clone per worker: another worker's fetch never resets files this one reads
            settings.cache_path / "targets" / spec.name,
            settings.fetch_interval_s,
            github_token=settings.github_token.get_secret_value()
            if settings.github_token
            else None,
            hf_token=token,
            memory_mb=settings.tool_memory_mb,
            given_as=settings.given_as("target"),  # errors name --target when it was given
        )
        self.cache = ResultCache(settings.cache_path / "results.sqlite3")
        self.model = model_from_settings(settings)  # None: no AUTOCODER_LLM_* set
        self.worker: Worker | None = None
        self.waiting_for: str | None = None
        self.next_try_at: float | None = None
        self.failure: str | None = None  # why the worker could not be built (not retried)
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None  # the run started by :meth:`start`

    def __repr__(self) -> str:
        return f"WorkerService({self.spec.name}, {self.target!r}, {self.hub or self.store!r})"

    async def open(self, hub_retry_s: float = 10.0, give_up_after_s: float | None = None) -> Worker:
        """Open the Hub (retrying outages) and build the worker from the restored store."""
        if self.hub is not None:
            await self._open_hub(hub_retry_s, give_up_after_s)
        if TASKS in self.spec.configs:
            requeued = requeue_running(self.store.root, utc_timestamp())
            if requeued:
                log.info("requeued %d task(s) that were running: %s", len(requeued),
                         ", ".join(requeued))  # fmt: skip
        self.worker = Worker(
            self.spec,
            self.store,
            self.target,
            self.cache,
            RunOptions(
                run_target_tests=self.settings.run_target_tests,
                network=self.settings.network,
                tool_timeout_s=self.settings.tool_timeout_s,
                tool_memory_mb=self.settings.tool_memory_mb,
                max_file_bytes=self.settings.max_file_bytes,
            ),
            interval_s=self.settings.interval_s,
            iteration_timeout_s=self.settings.iteration_timeout_s,
            hub=self.hub,
            secrets=self.settings.secrets(),
            peers=self.peer_reader,
            perspective_of=self.peer_perspective,
            publish=self.publish_patch if self.settings.publish != "off" else None,
            ask_model=BudgetedModel(self.model, self.settings) if self.model else None,
        )
        if self.hub is not None:
            self.hub.start()
        return self.worker

    async def _open_hub(self, retry_s: float, give_up_after_s: float | None) -> None:
        """Open the Hub, retrying outages: each wait is ``max(Retry-After, backoff)``, the backoff
        doubling from ``retry_s`` up to the push interval; give up (raising the last outage) once
        the waits add up to ``give_up_after_s``. Shutdown ends a wait at once."""
        assert self.hub is not None
        hub = self.hub
        self.waiting_for = f"the Hub: connecting to hf://datasets/{hub.repo_id}"
        retrying = AsyncRetrying(
            retry=retry_outages,
            wait=RetryAfterOrBackoff(retry_s, hub.every_s),
            stop=stop_never if give_up_after_s is None else StopAfterWaiting(give_up_after_s),
            before_sleep=self._note_hub_wait,
            sleep=self._sleep_unless_closing,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await asyncio.to_thread(hub.open)
        self.waiting_for = self.next_try_at = None

    def _note_hub_wait(self, state: RetryCallState) -> None:
        wait = state.upcoming_sleep
        self.next_try_at = time.time() + wait
        self.waiting_for = f"the Hub ({failure(state)}); next try in {wait:.0f}s"
        log.warning("waiting for %s", self.waiting_for)

    async def _sleep_unless_closing(self, seconds: float) -> None:
        """Wait ``seconds``, or raise CancelledError as soon as shutdown begins."""
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return
        raise asyncio.CancelledError

    def peer_perspective(self, name: str) -> Perspective | None:
        """Another worker's perspective named ``name`` (the implementation worker runs the one
        that raised a finding again on its patched copy), or None when no worker has it."""
        for info in catalog.runnable():
            if info.name == self.spec.name:
                continue
            for perspective in info.spec().registry:
                if perspective.name == name:
                    return perspective
        return None

    def publish_patch(self, patch: Publishable, root: Path) -> Published:
        """Publish a checked patch made on the checkout at ``root`` as ``AUTOCODER_PUBLISH``
        says (see :mod:`autocoder.publish`); PublishRefused or PublishError otherwise."""
        remote = remote_of(self.settings.target, root)
        return publish(patch, self.settings, remote, self.settings.cache_path / "publish")

    def peer_reader(self, dataset: str) -> Dataset | None:
        """Another worker's dataset: the local folder when it has records, else its Hub repo
        (see :func:`autocoder.store.locate.open_dataset`, role "peer")."""
        return open_dataset(self.settings, dataset, role="peer")

    async def run(self, iterations: int | None = None) -> None:
        with logged_as(self.spec.name):  # this worker's page shows these lines, not the others'
            try:
                worker = self.worker or await self.open()
            except AutocoderError as e:  # e.g. the Hub refused the token: say so in /health
                self.failure = redact(str(e), self.settings.secrets())
                log.error("%s cannot start: %s", self.spec.name, self.failure)
                raise
            await worker.run(iterations)

    def start(self) -> asyncio.Task[None]:
        """Run the worker in a task that :meth:`shutdown` waits for; an app lifespan calls it."""
        self._task = asyncio.create_task(self.run(), name=f"autocoder-{self.spec.name}")
        return self._task

    @property
    def closing(self) -> bool:
        """True once :meth:`shutdown` began: no new iteration starts."""
        return self._closing.is_set()

    async def shutdown(self, grace_s: float = SHUTDOWN_GRACE_S) -> str:
        """Stop in arq's and CommitScheduler's order and return the one summary line it logs:
        stop taking work, wait up to ``grace_s`` for the running iteration (then cancel it), push
        what is left to the Hub, and only then close the result cache the iteration uses."""
        with logged_as(self.spec.name):
            return await self._shutdown(grace_s)

    async def _shutdown(self, grace_s: float) -> str:
        self._closing.set()
        if self.worker is not None:
            self.worker.close()
        done_before = self._iterations_done()
        cancelled = await self._wait_for_worker(grace_s)
        finished = self._iterations_done() - done_before
        pushed = await asyncio.to_thread(self._final_push)
        self.cache.close()
        line = (
            f"{self.spec.name} stopped after iteration {self._iterations_done()}: "
            f"{finished} iteration{'' if finished == 1 else 's'} finished during shutdown, "
            f"{cancelled} cancelled, {pushed}"
        )
        log.info("%s", line)
        return line

    async def close(self) -> None:
        """The old name of :meth:`shutdown`, kept for callers."""
        await self.shutdown()

    def _iterations_done(self) -> int:
        return self.worker.iteration if self.worker is not None else 0

    async def _wait_for_worker(self, grace_s: float) -> int:
        """Wait for the task of :meth:`start`; cancel it after ``grace_s``. Iterations cancelled."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            await asyncio.wait([task], timeout=grace_s)
            if not task.done():
                task.cancel()
                await asyncio.wait([task])
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.error("the %s worker task ended with an error", self.spec.name,
                      exc_info=task.exception())  # fmt: skip
        # an iteration still marked current was abandoned (cancelled here, or ``once`` interrupted)
        return int(self.worker is not None and self.worker.current is not None)

    def _final_push(self) -> str:
        """Stop the Hub thread and push what is left; say what went where."""
        if self.hub is None:
            return f"records in {self.store.root}"
        if self.worker is None:  # the Hub never opened: pushing could overwrite its shards
            return f"nothing pushed to {self.hub.repo_id} (the Hub was never opened)"
        before = set(self.hub.pending())
        self.hub.stop()
        left = self.hub.pending()
        pushed = f"pushed {len(before - set(left))} files to {self.hub.repo_id}"
        return f"{pushed}, {len(left)} files wait in {self.store.root}" if left else pushed

    def status(self) -> dict[str, Any]:
        if self.worker is None:
            return {
                "worker": self.spec.name,
                "state": "failed" if self.failure else "starting",
                "error": self.failure,
                "waiting_for": None if self.failure else self.waiting_for,
                "next_try_at": None if self.failure else self.next_try_at,
                "target": self.target.display,
                "iteration": 0,
            }
        return self.worker.status()

    def recent_records(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` records of this worker, oldest first (StoreError if unreadable)."""
        return recent_records(self.store.reader, limit)

    def store_error(self) -> str | None:
        """Why the last write to the store failed, or None when it worked (or none was tried)."""
        return self.worker.last_store_error if self.worker is not None else None

    def condition(self) -> tuple[str, str | None]:
        """("ok" | "starting" | "failed" | "degraded", why) for GET /health."""
        if self.worker is None:
            if self.failure:
                return "failed", self.failure
            return "starting", self.waiting_for or "building the worker"
        store_error = self.store_error()
        if store_error:
            return "degraded", f"the last write to {self.store.root} failed: {store_error}"
        if self.hub is not None and self.hub.last_error:
            return "degraded", (
                f"the last push to {self.hub.repo_id} failed ({self.hub.last_error}); "
                f"the data waits in {self.store.root}"
            )
        return "ok", None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


class BudgetedModel:
    """The configured model within the daily budget (:class:`autocoder.llm.TokenBudget`), kept
    in the cache folder across iterations and restarts (an empty disk starts the day afresh)."""

    def __init__(self, model: ChatModel, settings: Settings) -> None:
        self.model, self.name = model, model.name
        self.daily_tokens = settings.llm_daily_tokens
        self.budget_file = settings.cache_path / "llm-budget.json"

    def __call__(self, system: str, user: str, max_tokens: int) -> Completion:
        budget = TokenBudget.from_state(_read_json(self.budget_file), self.daily_tokens)
        try:
            return ask(self.model, budget, system, user, max_tokens=max_tokens)
        finally:
            atomic_write(self.budget_file.parent, self.budget_file.name,
                         json.dumps(budget.to_state()).encode())  # fmt: skip
