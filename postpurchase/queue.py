"""Handing work to Celery once the transaction that made it necessary has committed.

A service names the task it wants by its registered name and never imports a `tasks` module
(the tasks modules import the services). A rolled-back transaction enqueues nothing; outside
a transaction the task is sent at once. This is the one place that calls `delay`/`apply_async`
for the apps' services, so no task is ever sent from inside an open transaction, where a
worker could run it before the rows it needs are visible."""

import contextlib
import importlib
from dataclasses import dataclass, field
from typing import Any

from celery import Task
from django.db import transaction

from postpurchase.celery import app


def task_named(name: str) -> Task:
    """The task registered as `name`. A process that has not imported that task's module yet
    (a web process never imports the tasks modules on its own) imports it: a task's
    registered name is its module's path followed by its function's name."""
    if name not in app.tasks:
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(name.rpartition(".")[0])
    try:
        return app.tasks[name]
    except KeyError:
        raise LookupError(f"no Celery task is registered as '{name}'") from None


@dataclass(frozen=True)
class Enqueue:
    """One task to send, as `transaction.on_commit` holds it until the commit."""

    task: Task
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    countdown: float | None = None

    @property
    def name(self) -> str:
        return self.task.name

    def __call__(self) -> None:
        if self.countdown is None:
            # `delay`, which a task class may shape (the outbox's batch task shortens how its
            # arguments are logged).
            self.task.delay(*self.args, **self.kwargs)
            return
        call: dict[str, Any] = {"countdown": self.countdown}
        if self.args:
            call["args"] = self.args
        if self.kwargs:
            call["kwargs"] = self.kwargs
        self.task.apply_async(**call)


def enqueue_on_commit(
    task: str | Task, *args: Any, countdown: float | None = None, **kwargs: Any
) -> Enqueue:
    """Send `task` with these arguments once the current transaction commits (at once outside
    one), `countdown` seconds later when given. The name is resolved now, so a wrong one
    fails in the caller, not after its commit."""
    enqueue = Enqueue(
        task=task_named(task) if isinstance(task, str) else task,
        args=args,
        kwargs=kwargs,
        countdown=countdown,
    )
    transaction.on_commit(enqueue)
    return enqueue
