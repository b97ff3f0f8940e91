"""The contributor documents point at what is really there: every file or folder they name in
backticks, and every relative link, exists in the repository."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOCUMENTS = ["README.md", "ARCHITECTURE.md", "CONTRIBUTING.md"]
# A backticked repository path: starts with a top-level folder of the project and names a file
# or a folder (`orders/ingest/webhooks.py`, `notifications/engine/`).
_TOP = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith("."))
_PATH = re.compile(r"`((?:" + "|".join(map(re.escape, _TOP)) + r")/[\w./<>-]*)`")
_LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)#\s]+)")


# Made at run time, never in a checkout.
_RUNTIME = ("var/",)


def _named_paths(text: str) -> list[str]:
    """The file names (`a/b.py`) and folders (`a/b/`) a document names. Placeholders
    (`<app>/templates/…`) name a pattern, and a bare `orders/create` is a webhook topic."""
    return [
        path
        for path in _PATH.findall(text)
        if "<" not in path
        and "*" not in path
        and not path.startswith(_RUNTIME)
        and (path.endswith("/") or "." in path.rsplit("/", 1)[-1])
    ]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_path_a_document_names_exists(document):
    text = (ROOT / document).read_text(encoding="utf-8")

    missing = [p for p in _named_paths(text) if not (ROOT / p.rstrip("/")).exists()]

    assert missing == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_relative_link_resolves(document):
    text = (ROOT / document).read_text(encoding="utf-8")

    missing = [link for link in _LINK.findall(text) if not (ROOT / link).exists()]

    assert missing == []


def test_the_readme_links_the_contributor_documents():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert "(ARCHITECTURE.md)" in readme
    assert "(CONTRIBUTING.md)" in readme
