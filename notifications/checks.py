"""Deploy checks for what customers' links and providers' callbacks depend on."""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@register(deploy=True)
def public_base_url_is_https(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """RFC 8058 one-click unsubscribe needs an https List-Unsubscribe URL (mailbox providers
    ignore an http one), and links in messages should not travel in clear. A local address is
    left alone: it is a development setup, never a public one."""
    url = urlsplit(settings.PUBLIC_BASE_URL)
    if url.scheme == "https" or (url.hostname or "") in _LOCAL_HOSTS:
        return []
    return [
        Warning(
            f"PUBLIC_BASE_URL is {settings.PUBLIC_BASE_URL!r}, not an https address.",
            hint="Set PUBLIC_BASE_URL to the public https address, e.g. https://engage.example.com.",
            id="notifications.W001",
        )
    ]
