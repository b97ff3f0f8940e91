"""Django's `{# #}` comment ends at the line's end: one spread over two lines is not a comment
and prints on the page. Every template's multi-line comment is a `{% comment %}` block."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

_PROJECT_APPS = ("postpurchase", "orders", "notifications", "returns", "feedback", "loyalty")
_UNCLOSED_COMMENT = re.compile(r"\{#(?:(?!#\}).)*$", re.MULTILINE)


def _templates() -> list[Path]:
    dirs = [Path(d) for engine in settings.TEMPLATES for d in engine["DIRS"]]
    dirs += [Path(apps.get_app_config(label).path) / "templates" for label in _PROJECT_APPS]
    dirs.append(Path(settings.BASE_DIR) / "tests" / "giftcards" / "templates")
    return sorted(path for d in dirs if d.is_dir() for path in d.rglob("*") if path.is_file())


def test_the_scan_finds_a_comment_spread_over_two_lines() -> None:
    assert _UNCLOSED_COMMENT.search("{# one line,\n   and another #}\n")
    assert not _UNCLOSED_COMMENT.search("{# one line #}\n{% comment %}\nmore\n{% endcomment %}")


@pytest.mark.parametrize("path", _templates(), ids=str)
def test_no_template_spreads_a_hash_comment_over_lines(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    unclosed = [match.group(0) for match in _UNCLOSED_COMMENT.finditer(source)]
    assert not unclosed, f"{path}: multi-line {{# #}} prints on the page: {unclosed}"
