"""The dashboard writes every day one way and every moment one way, on every page."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template

_DASHBOARD = (
    "orders/overview.html",
    "orders/order_list.html",
    "orders/order_detail.html",
    "orders/partials",
    "returns/dashboard",
    "notifications/dashboard",
    "shell",
)
_LITERAL_FORMAT = re.compile(r"""\|date:(?P<format>"[^"]*"|'[^']*')""")


def _dashboard_templates() -> list[Path]:
    root = Path(settings.BASE_DIR) / "templates"
    found = []
    for name in _DASHBOARD:
        path = root / name
        found += sorted(path.rglob("*.html")) if path.is_dir() else [path]
    return found


@pytest.mark.parametrize("path", _dashboard_templates(), ids=lambda p: p.name)
def test_dashboard_pages_write_dates_with_the_dashboards_filters(path):
    source = path.read_text(encoding="utf-8")
    # 'c' (a <time datetime="…"> value) and 'Y-m-d' (a day in a link's query) are read by
    # machines, not by people.
    machine = {"c", "Y-m-d"}
    formats = [
        m["format"] for m in _LITERAL_FORMAT.finditer(source) if m["format"][1:-1] not in machine
    ]
    assert formats == [], f"{path}: use |dashboard_date or |dashboard_datetime"


def test_a_day_and_a_moment_in_the_shops_zone():
    template = Template(
        "{% load dashboard tz %}{% timezone 'America/New_York' %}"
        "{{ moment|dashboard_date }} · {{ moment|dashboard_datetime }} · {{ day|dashboard_date }}"
        "{% endtimezone %}"
    )
    moment = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)

    text = template.render(Context({"moment": moment, "day": date(2026, 12, 9)}))

    assert text == "Dec 6, 2026 · Dec 6, 2026, 22:30 · Dec 9, 2026"
