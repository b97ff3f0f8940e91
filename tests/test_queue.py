"""Work is handed to Celery in one way: `postpurchase.queue.enqueue_on_commit`, after the
transaction commits, with the task named by its registered name. The scans below keep it so:
no service sends a task itself, and none imports a tasks module or a task to reach one, at the
top of the module or inside a function."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from orders.tasks import webhook_events_dispatch_task
from postpurchase.queue import Enqueue, enqueue_on_commit, task_named
from postpurchase.tasks import domain_event_deliver_task

APPS = ("postpurchase", "orders", "notifications", "returns", "feedback", "loyalty")
HELPER = Path("postpurchase/queue.py")


def _app_modules() -> list[Path]:
    root = Path(settings.BASE_DIR)
    return [
        path.relative_to(root)
        for app in APPS
        for path in sorted((root / app).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _is_tasks_module(path: Path) -> bool:
    # A task runs outside any transaction and may hand work to the tasks beside it directly.
    return path.name == "tasks.py"


def _tree(path: Path) -> ast.Module:
    return ast.parse((Path(settings.BASE_DIR) / path).read_text(), filename=str(path))


def _names_a_tasks_module(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return (
            module == "tasks"
            or module.endswith(".tasks")
            or any(alias.name == "tasks" for alias in node.names)
        )
    return any(alias.name.endswith(".tasks") for alias in node.names)


def _reaches_a_task(node: ast.AST) -> bool:
    """An import of a tasks module or of a task by its name (`*_task`), at the top of a module
    or inside a function, or a tasks module imported by its dotted name as a string."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        from_celery = isinstance(node, ast.ImportFrom) and node.module == "celery"  # shared_task
        return _names_a_tasks_module(node) or any(
            alias.name.endswith("_task") and not from_celery for alias in node.names
        )
    if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
        "import_module",
        "__import__",
    ):
        return any(
            isinstance(arg, ast.Constant)
            and isinstance(arg.value, str)
            and (arg.value == "tasks" or arg.value.endswith(".tasks"))
            for arg in node.args
        )
    return False


def _sends_a_task(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("delay", "apply_async", "send_task")
    )


def test_no_module_but_the_helper_and_the_tasks_sends_a_task_itself():
    sends = [
        f"{path}:{node.lineno}"
        for path in _app_modules()
        if path != HELPER and not _is_tasks_module(path)
        for node in ast.walk(_tree(path))
        if _sends_a_task(node)
    ]
    assert sends == [], "send tasks with postpurchase.queue.enqueue_on_commit"


def test_no_module_but_the_tasks_imports_a_tasks_module():
    imports = [
        f"{path}:{node.lineno}"
        for path in _app_modules()
        if not _is_tasks_module(path)
        for node in ast.walk(_tree(path))
        if _reaches_a_task(node)
    ]
    assert imports == [], "name the task: enqueue_on_commit('app.tasks.some_task', ...)"


@pytest.mark.parametrize(
    "source",
    [
        "from orders.tasks import webhook_events_dispatch_task\n",
        "def f():\n    from orders.tasks import webhook_events_dispatch_task\n",
        "def f():\n    from orders import tasks\n",
        "def f():\n    import orders.tasks\n",
        "def f():\n    from orders.jobs import webhook_events_dispatch_task\n",
        "def f():\n    importlib.import_module('orders.tasks')\n",
        "class C:\n    def f(self):\n        from . import tasks\n",
    ],
)
def test_the_scan_sees_a_task_reached_for_inside_a_function(source):
    assert any(_reaches_a_task(node) for node in ast.walk(ast.parse(source)))


@pytest.mark.parametrize(
    "source",
    [
        "def f():\n    current_app.send_task('orders.tasks.x_task')\n",
        "def f():\n    x_task.apply_async(countdown=1)\n",
    ],
)
def test_the_scan_sees_a_task_sent_inside_a_function(source):
    assert any(_sends_a_task(node) for node in ast.walk(ast.parse(source)))


def _named_enqueues() -> list[tuple[str, str]]:
    return [
        (f"{path}:{node.lineno}", node.args[0].value)
        for path in _app_modules()
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", "")) == "enqueue_on_commit"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]


def test_every_task_a_service_names_is_registered_under_that_name():
    named = _named_enqueues()

    assert len(named) >= 7  # the scan does find them
    for where, name in named:
        assert task_named(name).name == name, where


def test_an_unknown_task_name_fails_in_the_caller_and_enqueues_nothing(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(LookupError, match=r"orders\.tasks\.no_such_task"),
    ):
        enqueue_on_commit("orders.tasks.no_such_task", 1)

    assert callbacks == []


def _enqueue_then_roll_back() -> None:
    with transaction.atomic():
        enqueue_on_commit("postpurchase.tasks.domain_event_deliver_task", 2)
        raise RuntimeError("rolled back")


@pytest.mark.django_db
def test_a_task_is_sent_after_the_commit_and_never_for_a_rollback(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[int] = []
    monkeypatch.setattr(domain_event_deliver_task, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            enqueue_on_commit("postpurchase.tasks.domain_event_deliver_task", 1)
            assert sent == []  # not while the transaction is open
        with pytest.raises(RuntimeError):
            _enqueue_then_roll_back()

    assert sent == [1]
    (enqueue,) = callbacks
    assert isinstance(enqueue, Enqueue)
    assert (enqueue.name, enqueue.args) == (domain_event_deliver_task.name, (1,))


@pytest.mark.django_db
def test_a_countdown_is_passed_to_the_broker(monkeypatch, django_capture_on_commit_callbacks):
    asked: list[dict] = []
    monkeypatch.setattr(webhook_events_dispatch_task, "apply_async", lambda **o: asked.append(o))

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(webhook_events_dispatch_task, countdown=0.25)

    assert asked == [{"countdown": 0.25}]


def test_every_task_beat_runs_is_a_registered_task():
    # The test settings run no beat; the schedule the deployed beat runs is the base one.
    from postpurchase.settings import base

    tasks = [entry["task"] for entry in base.CELERY_BEAT_SCHEDULE.values()]

    assert "orders.tasks.product_affinities_compute_all_task" in tasks
    assert all(task_named(name).name == name for name in tasks)
