"""Turning a message's context into text. Adapters only ever receive what this produces."""

from dataclasses import dataclass
from typing import Any

from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from postpurchase.exceptions import DomainError


@dataclass(frozen=True)
class RenderedText:
    subject: str
    body_text: str
    body_html: str


def _render(path: str, context: dict[str, Any]) -> str:
    return render_to_string(path, context).strip()


def message_render(*, kind: str, channel: str, context: dict[str, Any]) -> RenderedText:
    """Render `templates/notifications/<kind>/` for the channel: subject.txt, body.txt and
    body.html for email; sms.txt for SMS and WhatsApp."""
    base = f"notifications/{kind}"
    try:
        if channel == "email":
            return RenderedText(
                subject=" ".join(_render(f"{base}/subject.txt", context).split()),
                body_text=_render(f"{base}/body.txt", context),
                body_html=_render(f"{base}/body.html", context),
            )
        return RenderedText(subject="", body_text=_render(f"{base}/sms.txt", context), body_html="")
    except TemplateDoesNotExist as exc:
        raise DomainError(f"no {channel} template for '{kind}': {exc}") from exc
