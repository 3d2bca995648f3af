"""The task API of a worker that takes tasks (the implementation worker): submit one, read one,
list them, through Gradio (``gradio_client``: ``/submit_task``, ``/task``, ``/tasks``) and plain
HTTP (``POST /api/tasks``, ``GET /api/tasks/{id}``, ``GET /api/tasks``).

Every call needs what start and stop need (:func:`autocoder.apps.controls.authorize`): the
admin token (the first argument over Gradio, ``Authorization: Bearer TOKEN`` over HTTP) or, on
a Space, the owner's Hugging Face login (through the Gradio endpoints only: the login lives in
Gradio's session, which the plain routes outside it do not see). A submitted task is checked
against the target's checkout (its file must be in the repository) and written to the dataset at
once, so a restart or an empty Space disk restored from the Hub keeps it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import gradio as gr
from fastapi import FastAPI, HTTPException, Request

from autocoder.apps.controls import authorize
from autocoder.apps.service import WorkerService
from autocoder.engine.logbuffer import logged_as
from autocoder.errors import AutocoderError, TaskRejected, Unauthorized
from autocoder.schema import TaskRow
from autocoder.store.tasklog import latest_tasks, write_task_rows
from autocoder.workers.implementation.tasks import new_task

log = logging.getLogger("autocoder.tasks")
ACTIONS = "the task API's calls"


class TaskDesk:
    """What the endpoints do, whoever calls them: check who, then submit, read or list."""

    def __init__(self, service: WorkerService) -> None:
        self.service = service

    def allow(self, admin_token: str | None, username: str | None) -> str:
        return authorize(self.service.settings, admin_token, username, ACTIONS)

    def submit(self, entry: Any) -> dict[str, Any]:
        checkout = self.service.target.current()  # never a fetch under a running iteration
        try:
            task = new_task(entry, checkout.root, "api")
        except (ValueError, RecursionError):
            raise TaskRejected("a task is a JSON object of plain values") from None
        task = task.model_copy(update={"repo": checkout.repo, "commit": checkout.commit})
        write_task_rows(self.service.store.root, [task])
        log.info("task %s submitted (%s, priority %d)", task.id, task.type, task.priority)
        return _shown(task)

    def get(self, task_id: str) -> dict[str, Any]:
        task = self._tasks().get(task_id)
        if task is None:
            raise TaskRejected(f"there is no task {task_id!r}; GET /api/tasks lists them")
        return _shown(task)

    def all(self) -> list[dict[str, Any]]:
        newest = sorted(self._tasks().values(), key=lambda t: t.created_at, reverse=True)
        return [_shown(task) for task in newest]

    def _tasks(self) -> dict[str, TaskRow]:
        return latest_tasks(self.service.store.reader)


def _shown(task: TaskRow) -> dict[str, Any]:
    return task.model_dump(mode="json", exclude={"iteration", "worker"})


def gradio_endpoints(service: WorkerService) -> None:
    """``/submit_task(admin_token, task)``, ``/task(admin_token, task_id)``, ``/tasks(admin_token)``
    inside the worker's Blocks."""
    desk = TaskDesk(service)

    def checked(admin_token: str | None, profile: gr.OAuthProfile | None) -> None:
        with logged_as(service.spec.name):
            try:
                desk.allow(admin_token, profile.username if profile else None)
            except Unauthorized as e:
                log.warning("task API refused: %s", e)
                raise gr.Error(str(e)) from None

    def submit_task(admin_token: str, task: Any, profile: gr.OAuthProfile | None) -> Any:
        checked(admin_token, profile)
        return _or_gradio_error(desk.submit, task)

    def task(admin_token: str, task_id: str, profile: gr.OAuthProfile | None) -> Any:
        checked(admin_token, profile)
        return _or_gradio_error(desk.get, task_id)

    def tasks(admin_token: str, profile: gr.OAuthProfile | None) -> Any:
        checked(admin_token, profile)
        return desk.all()

    token, text, entry, answer = (gr.Textbox(visible=False), gr.Textbox(visible=False),
                                  gr.JSON(visible=False), gr.JSON(visible=False))  # fmt: skip
    hidden = gr.Button(visible=False)
    hidden.click(submit_task, inputs=[token, entry], outputs=answer, api_name="submit_task")
    hidden.click(task, inputs=[token, text], outputs=answer, api_name="task")
    hidden.click(tasks, inputs=token, outputs=answer, api_name="tasks")


def _or_gradio_error(call: Any, argument: Any) -> Any:
    try:
        return call(argument)
    except AutocoderError as e:
        raise gr.Error(str(e)) from None


def http_routes(app: FastAPI, service: WorkerService) -> None:
    """``POST /api/tasks``, ``GET /api/tasks/{task_id}``, ``GET /api/tasks`` on the app."""
    desk = TaskDesk(service)

    def allowed(request: Request) -> None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
        try:
            desk.allow(token, None)  # no login over plain HTTP: Gradio's session is its own
        except Unauthorized as e:
            log.warning("task API refused: %s", e)
            raise HTTPException(401, str(e)) from None

    @app.post("/api/tasks", status_code=201)
    async def submit(request: Request) -> dict[str, Any]:
        allowed(request)
        try:
            entry = await request.json()
        except (ValueError, RecursionError):
            raise HTTPException(400, "the body must be a JSON task object") from None
        return await asyncio.to_thread(_or_http_error, desk.submit, entry, 422)

    @app.get("/api/tasks/{task_id}")
    def one(task_id: str, request: Request) -> dict[str, Any]:
        allowed(request)
        found: dict[str, Any] = _or_http_error(desk.get, task_id, 404)
        return found

    @app.get("/api/tasks")
    def every(request: Request) -> list[dict[str, Any]]:
        allowed(request)
        return desk.all()


def _or_http_error(call: Any, argument: Any, status: int) -> Any:
    try:
        return call(argument)
    except AutocoderError as e:
        raise HTTPException(status, str(e)) from None
