"""No page template holds what the Content-Security-Policy refuses: an inline script, an event
handler attribute, a `javascript:` link, a style attribute, or a <style> block without the
request's nonce. (The policy would block them in the browser; this finds them before.)

Email templates are not pages: mail clients drop stylesheets, so emails keep inline styles."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

_PROJECT_APPS = ("postpurchase", "orders", "notifications", "returns", "feedback", "loyalty")
_TAG = re.compile(r"<(?P<name>[a-zA-Z][\w-]*)(?P<attrs>(?:[^>{]|\{[^}]*\})*)>", re.DOTALL)
_SCRIPT_DATA = re.compile(r"""\btype\s*=\s*["']application/(?:ld\+)?json["']""")
_COMMENTS = re.compile(
    r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|<!--.*?-->", re.DOTALL
)


def _template_dirs() -> list[Path]:
    dirs = [Path(d) for engine in settings.TEMPLATES for d in engine["DIRS"]]
    dirs += [Path(apps.get_app_config(label).path) / "templates" for label in _PROJECT_APPS]
    return [d for d in dirs if d.is_dir()]


def _is_email(relative: Path) -> bool:
    """Templates rendered into messages (templates/notifications/<kind>/ and the layout and
    snippets they share), as opposed to the messaging dashboard and the preferences page."""
    parts = relative.parts
    if parts[0] != "notifications":
        return False
    return not (parts[1] == "dashboard" or relative.name == "preferences.html")


def _page_templates() -> list[tuple[str, str]]:
    found = []
    for root in _template_dirs():
        for path in sorted(root.rglob("*.html")):
            relative = path.relative_to(root)
            if not _is_email(relative):
                found.append((str(relative), path.read_text(encoding="utf-8")))
    return found


PAGES = _page_templates()


def inline_code(source: str) -> list[str]:
    """What in this template the page's Content-Security-Policy would refuse."""
    found = []
    for tag in _TAG.finditer(_COMMENTS.sub("", source)):
        name, attrs = tag["name"].lower(), tag["attrs"]
        if (
            name == "script"
            and not re.search(r"\bsrc\s*=", attrs)
            and not _SCRIPT_DATA.search(attrs)
        ):
            found.append(f"inline <script>: {tag[0][:80]}")
        if name == "style" and "nonce" not in attrs:
            found.append(f"<style> without the nonce: {tag[0][:80]}")
        if re.search(r"\sstyle\s*=", attrs):
            found.append(f"style attribute: {tag[0][:80]}")
        if re.search(r"\son[a-z]+\s*=", attrs, re.IGNORECASE):
            found.append(f"event handler attribute: {tag[0][:80]}")
        if re.search(r"\shx-on", attrs):
            found.append(f"hx-on (evaluated code): {tag[0][:80]}")
        if re.search(r"""=\s*["']?\s*javascript:""", attrs, re.IGNORECASE):
            found.append(f"javascript: URL: {tag[0][:80]}")
    return found


def test_the_scan_sees_every_kind_of_inline_code():
    source = """
        {# <script>in a comment</script> #}<!-- <p style="x"> -->
        <script>alert(1)</script><script src="/static/x.js"></script>
        <script type="application/json" id="data">{"a": 1}</script>
        <p style="color: red">x</p><style>p {}</style>
        <style nonce="{{ request.csp_nonce }}"></style>
        <a href="javascript:void(0)" onclick="go()">x</a><div hx-on:click="go()"></div>
        <div class="{% if a %}b{% endif %}" {% if x %}hidden{% endif %}></div>
    """

    assert [problem.split(":")[0] for problem in inline_code(source)] == [
        "inline <script>",
        "style attribute",
        "<style> without the nonce",
        "event handler attribute",
        "javascript",
        "hx-on (evaluated code)",
    ]


def test_the_scan_covers_the_page_templates_and_leaves_out_emails():
    names = {name for name, _ in PAGES}

    assert "shell/dashboard.html" in names
    assert "shell/customer.html" in names
    assert "notifications/preferences.html" in names
    assert "notifications/dashboard/message_detail.html" in names
    assert "notifications/_layout.html" not in names
    assert "notifications/order_confirmation/body.html" not in names


@pytest.mark.parametrize(("name", "source"), PAGES, ids=[name for name, _ in PAGES])
def test_page_template_has_no_inline_code(name, source):
    assert inline_code(source) == []
