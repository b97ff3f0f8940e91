"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

The browser is the system's `chromium` (`make test` installs it when missing); nothing is ever
downloaded by Playwright. One browser per test process, a fresh page per test."""

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

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


# Runs in every document before its own scripts (through DevTools, which no page's policy
# governs): each violation the browser reports to the page is also said on the console, where
# the test hears it even after the page has gone.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(
    `Content Security Policy violation: ${e.violatedDirective} refused ` +
      `${e.blockedURI || "inline code"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


def _is_policy_report(text: str) -> bool:
    # Chromium's own words for a refused resource, our listener's, and a header it cannot read.
    return "Content Security Policy" in text or "Permissions-Policy" in text


@pytest.fixture
def policy_reports() -> list[str]:
    """What the browser refused under a page's Content-Security-Policy, or could not read in its
    Permissions-Policy, on every page the test's `page` visited."""
    return []


@pytest.fixture
def page(browser: Browser, policy_reports: list[str]) -> Iterator[Page]:
    """A fresh page. When the test is done, nothing may have been refused on any page it
    visited: every browser test checks the pages it sees against their policies."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_init_script(_REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)

    def heard(message: ConsoleMessage) -> None:
        if _is_policy_report(message.text):
            policy_reports.append(f"{page.url}: {message.text}")

    page.on("console", heard)
    yield page
    context.close()
    assert policy_reports == [], "Refused by the pages' policies:\n" + "\n".join(policy_reports)
