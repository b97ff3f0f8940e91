"""The apps depend on one another in one direction only, and never on each other's private names.

The layers, bottom up: the kernel (`postpurchase`) ← `orders` ← `notifications` ← `returns`,
`feedback`, `loyalty` ← `analytics`. A module may import its own app and the layers below it:
not a layer above (the kernel imports no app; `orders` nothing of messaging or returns), and not
an app beside it (returns and loyalty talk through events). A lower layer reaches a higher one
only the other way round: the higher one subscribes to its events or registers with it. Every
import counts, at the top of a module or inside a function, for type hints too.

And no module imports (or reads through an imported module) another app's `_private` names:
what an app offers others has a public name.

The source files are read with `ast`, so the check runs no code and sees every import."""

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

LAYERS = {
    "postpurchase": 0,
    "orders": 1,
    "notifications": 2,
    "returns": 3,
    "feedback": 3,
    "loyalty": 3,
    "analytics": 4,
}
ROOT = Path(settings.BASE_DIR)


@dataclass(frozen=True)
class Offence:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _app_of(module: str) -> str | None:
    top = module.split(".", 1)[0]
    return top if top in LAYERS else None


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def offences(app: str, path: str, source: str) -> Iterator[Offence]:
    """What a module of `app` imports that the layers forbid."""
    tree = ast.parse(source, filename=path)
    # Local names bound to a module of another app (`from orders import events`, `import
    # orders.tasks`): reading `events._x` through them is reaching for a private name too.
    foreign_modules: dict[str, str] = {}
    for node in ast.walk(tree):
        imported: list[tuple[str, list[str]]] = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported.append((alias.name, []))
                if _app_of(alias.name) not in (None, app):
                    local = alias.asname or alias.name.split(".", 1)[0]
                    foreign_modules[local] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [alias.name for alias in node.names]
            imported.append((node.module, names))
            if _app_of(node.module) not in (None, app):
                for alias in node.names:
                    foreign_modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for module, names in imported:
            other = _app_of(module)
            if other is None or other == app:
                continue
            if LAYERS[other] >= LAYERS[app]:
                where = "above" if LAYERS[other] > LAYERS[app] else "beside"
                yield Offence(path, node.lineno, f"{app} imports {module} ({other} is {where} it)")
            for name in names:
                if _is_private(name):
                    yield Offence(path, node.lineno, f"{app} imports {module}.{name} (private)")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _is_private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in foreign_modules
        ):
            module = foreign_modules[node.value.id]
            yield Offence(path, node.lineno, f"{app} reads {module}.{node.attr} (private)")


def _sources() -> Iterator[tuple[str, Path]]:
    for app in LAYERS:
        folder = ROOT / app
        if folder.is_dir():
            for path in sorted(folder.rglob("*.py")):
                yield app, path


def test_no_app_imports_a_layer_above_or_beside_it_nor_another_apps_private_names():
    found = [
        str(offence)
        for app, path in _sources()
        for offence in offences(app, str(path.relative_to(ROOT)), path.read_text("utf-8"))
    ]

    assert found == []


def _imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def test_the_messaging_engine_imports_nothing_of_the_flows_built_on_it():
    """`notifications.engine` sends whatever message kinds are registered; the flows in
    `notifications.flows` register theirs like any app and use the engine, never the reverse."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in sorted((ROOT / "notifications" / "engine").rglob("*.py"))
        for line, module in _imported_modules(ast.parse(path.read_text("utf-8")))
        if module == "notifications.flows" or module.startswith("notifications.flows.")
    ]

    assert found == []


_WRITES = frozenset(
    {
        "create",
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
        "update",
        "delete",
    }
)
_SQL_WRITE = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z]+)_[a-z]+", re.IGNORECASE
)


def writes_to_other_apps(app: str, path: str, source: str) -> Iterator[Offence]:
    """Where a module of `app` writes another app's table itself, through that app's models'
    managers (`Model.objects….update()`) or in SQL, rather than by calling its services."""
    tree = ast.parse(source, filename=path)
    foreign_models = {
        alias.asname or alias.name: node.module.split(".", 1)[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.level == 0
        and node.module
        and _app_of(node.module) not in (None, app)
        and ".models" in node.module
        for alias in node.names
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr not in _WRITES:
                continue
            chain, value = [], node.func.value
            while isinstance(value, ast.Attribute | ast.Call):
                if isinstance(value, ast.Attribute):
                    chain.append(value.attr)
                    value = value.value
                else:
                    value = value.func
            if isinstance(value, ast.Name) and value.id in foreign_models and "objects" in chain:
                owner = foreign_models[value.id]
                yield Offence(path, node.lineno, f"{app} writes {owner}.{value.id} itself")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for table_app in _SQL_WRITE.findall(node.value):
                if table_app in LAYERS and table_app != app:
                    yield Offence(path, node.lineno, f"{app} writes a {table_app} table in SQL")


def test_no_app_writes_another_apps_tables_but_through_its_services():
    found = [
        str(offence)
        for app, path in _sources()
        if "migrations" not in path.parts
        for offence in writes_to_other_apps(
            app, str(path.relative_to(ROOT)), path.read_text("utf-8")
        )
    ]

    assert found == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from orders.models import Shop\nShop.objects.filter(pk=1).update(name='x')\n", "Shop"),
        ("from orders.models import Product\nProduct.objects.create(title='x')\n", "Product"),
        ('SQL = "INSERT INTO orders_productaffinity (shop_id) VALUES (1)"\n', "in SQL"),
    ],
)
def test_the_write_check_catches_a_write_to_another_apps_table(source, expected):
    found = [str(o) for o in writes_to_other_apps("notifications", "x.py", source)]

    assert any(expected in offence for offence in found)


def test_the_write_check_lets_reads_locks_and_own_writes_through():
    source = (
        "from orders.models import Customer\nfrom notifications.models import Message\n"
        "Customer.objects.select_for_update().get(pk=1)\n"
        "Message.objects.filter(pk=1).update(status='sent')\n"
        'SQL = "UPDATE notifications_message SET status = 1"\n'
    )

    assert list(writes_to_other_apps("notifications", "x.py", source)) == []


def test_the_walk_reads_every_app():
    apps_read = {app for app, _path in _sources()}

    assert {"postpurchase", "orders", "notifications", "returns"} <= apps_read
    assert sum(1 for _ in _sources()) > 100


@pytest.mark.parametrize(
    ("app", "source", "expected"),
    [
        ("postpurchase", "from orders.models import Order\n", "postpurchase imports orders.models"),
        ("orders", "import notifications.tasks\n", "orders imports notifications.tasks"),
        (
            "orders",
            "def f():\n    from returns.selectors import x\n",
            "orders imports returns.selectors (returns is above it)",
        ),
        (
            "notifications",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from loyalty import models\n",
            "notifications imports loyalty",
        ),
        ("returns", "from loyalty.services import award\n", "(loyalty is beside it)"),
        (
            "returns",
            "from orders.admin import _pretty_json\n",
            "orders.admin._pretty_json (private)",
        ),
        (
            "returns",
            "from orders import events\nevents._subscribers\n",
            "orders.events._subscribers",
        ),
    ],
)
def test_the_check_catches_each_kind_of_offence(app, source, expected):
    assert any(expected in str(o) for o in offences(app, "x.py", source))


@pytest.mark.parametrize(
    ("app", "source"),
    [
        ("returns", "from orders.models import Order\nfrom notifications import services\n"),
        ("orders", "from orders.tracking import _helper\nfrom . import views\n"),
        ("notifications", "from postpurchase.events import publish\nimport django.db\n"),
    ],
)
def test_the_check_lets_downward_and_own_imports_through(app, source):
    assert list(offences(app, "x.py", source)) == []
