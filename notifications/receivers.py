"""Signal receivers. Per the conventions, the only one is anymail's tracking signal, and it
only hands the event to its service."""

from typing import Any

from anymail.signals import AnymailTrackingEvent

from notifications.engine.receipts.email import email_tracking_record


def email_tracking_received(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    email_tracking_record(esp_name=esp_name, event=event)
