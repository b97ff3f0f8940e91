"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

The browser is the system's `chromium` (`make test` installs it when missing); nothing is ever
downloaded by Playwright. One browser per test process, a fresh page per test."""

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

# Chromium keeps trying to reach Google's services without these; tests never leave loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium per test process, for as long as its browser tests run.

    Playwright's sync API keeps an event loop running in the test thread while it lives, and
    Django refuses ORM calls from a thread with a running loop; the tests only use the ORM
    between browser calls, so the check is lifted for that time. Only for that time: the
    variable would leak into later tests' subprocesses (`check --deploy` warns about it), hence
    a package-scoped fixture rather than a session-scoped one, closed with the last browser
    test of the process."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "The browser tests need Debian's Chromium: `make test` installs it, or run "
            "scripts/ensure-chromium (apt-get install chromium)."
        )
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
