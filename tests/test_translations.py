"""The shipped translations are complete and compiled: every string has its translation, and
the .mo that Django reads says what the .po says."""

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings

LOCALES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def _entries(po: Path) -> dict[str, list[str]]:
    """msgid → msgstr forms, from a .po written with --no-wrap (one line per string)."""
    entries: dict[str, list[str]] = {}
    msgid = None
    for line in po.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            msgid = ast.literal_eval(line[6:])
        elif line.startswith("msgstr") and msgid:
            entries.setdefault(msgid, []).append(ast.literal_eval(line.split(" ", 1)[1]))
    return entries


@pytest.mark.parametrize("code", LOCALES)
def test_every_string_is_translated_and_compiled(code):
    folder = Path(settings.LOCALE_PATHS[0]) / code / "LC_MESSAGES"
    entries = _entries(folder / "django.po")
    with (folder / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)

    assert len(entries) > 50
    untranslated = [msgid for msgid, forms in entries.items() if not all(forms)]
    assert untranslated == []
    for msgid, forms in entries.items():
        if len(forms) == 1:
            assert compiled.gettext(msgid) == forms[0], msgid
