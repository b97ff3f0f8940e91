"""The kit stays the one copy: pagination and filter-bar markup live only in
templates/components/, only the two layouts link a stylesheet, and no template carries an
inline <style>."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

_PROJECT_APPS = ("postpurchase", "orders", "notifications", "returns", "feedback", "loyalty")
_COMMENTS = re.compile(
    r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|<!--.*?-->", re.DOTALL
)
LAYOUTS = {"shell/dashboard.html", "shell/customer.html"}
# Not our pages: the vendored API docs page keeps its own sheets (Django admin's come from
# admin's own templates).
# The vendored API docs page, and the review widget shops frame on their storefronts (its own
# small sheet: the whole widget must weigh under 30 KB).
STYLESHEET_EXCEPTIONS = {"orders/api/docs.html", "feedback/reviews/widget.html"}
PAGINATION = re.compile(r'class="pagination[\s"]')
FILTER_BAR = re.compile(r'<form\b[^>]*class="filters[\s"]|class="filter-chips?[\s"]')
STYLESHEET = re.compile(r'<link\b[^>]*rel="stylesheet"', re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style\b", re.IGNORECASE)


def _templates() -> list[tuple[str, str]]:
    dirs = [Path(d) for engine in settings.TEMPLATES for d in engine["DIRS"]]
    dirs += [Path(apps.get_app_config(label).path) / "templates" for label in _PROJECT_APPS]
    found = []
    for root in (d for d in dirs if d.is_dir()):
        for path in sorted(root.rglob("*.html")):
            source = _COMMENTS.sub("", path.read_text(encoding="utf-8"))
            found.append((str(path.relative_to(root)), source))
    return found


TEMPLATES = _templates()


def _outside_components() -> list[tuple[str, str]]:
    return [(name, source) for name, source in TEMPLATES if not name.startswith("components/")]


def test_the_scan_sees_the_components_and_the_layouts():
    names = {name for name, _ in TEMPLATES}
    assert {"components/pagination.html", "components/filter_bar.html"} <= names
    assert names >= LAYOUTS


def test_the_patterns_find_the_markup_they_look_for():
    assert PAGINATION.search('<nav class="pagination" aria-label="Pages">')
    assert FILTER_BAR.search('<form class="filters filters--compact" method="get">')
    assert STYLESHEET.search('<link rel="stylesheet" href="/static/css/x.css">')
    assert STYLE_BLOCK.search("<style>p { color: red }</style>")
    assert not FILTER_BAR.search('<div class="filters__actions">')


@pytest.mark.parametrize(("name", "source"), _outside_components(), ids=lambda v: v[:60])
def test_no_page_copies_the_pagination_or_the_filter_bar(name, source):
    assert not PAGINATION.search(source), f"{name}: include components/pagination.html"
    assert not FILTER_BAR.search(source), f"{name}: include components/filter_bar.html"


@pytest.mark.parametrize(("name", "source"), TEMPLATES, ids=lambda v: v[:60])
def test_only_the_layouts_link_a_stylesheet(name, source):
    if name in LAYOUTS | STYLESHEET_EXCEPTIONS:
        return
    assert not STYLESHEET.search(source), f"{name}: styles belong in staff.css or customer.css"


@pytest.mark.parametrize(("name", "source"), TEMPLATES, ids=lambda v: v[:60])
def test_no_template_has_an_inline_style_block(name, source):
    assert not STYLE_BLOCK.search(source), f"{name}: styles belong in staff.css or customer.css"


def test_each_layout_links_its_one_sheet():
    sources = dict(TEMPLATES)

    dashboard = STYLESHEET.findall(sources["shell/dashboard.html"])
    customer = sources["shell/customer.html"]

    assert len(dashboard) == 1
    assert "css/staff.css" in sources["shell/dashboard.html"]
    assert "css/customer.css" in customer
    assert "css/staff.css" not in customer


def test_the_static_css_is_the_two_sheets_and_the_three_exceptions():
    css = {path.name for path in (Path(settings.BASE_DIR) / "static" / "css").glob("*.css")}

    # The exceptions style no page of ours: Django admin, the vendored API docs, and the review
    # widget that shops frame on their storefront (its whole weight must stay under 30 KB, so it
    # cannot carry the customer sheet).
    assert css == {"staff.css", "customer.css", "admin.css", "api_docs.css", "review-widget.css"}
