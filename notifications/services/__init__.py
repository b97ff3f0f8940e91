from notifications.services.dispatch import (
    messages_claim_due,
    messages_dispatch_due,
    messages_recover_stuck,
)
from notifications.services.operations import (
    message_cancel,
    message_retry,
    message_send_now,
    message_settle,
)
from notifications.services.rendering import message_render
from notifications.services.scheduling import MessageRequest, message_schedule, messages_cancel
from notifications.services.sending import message_send, messages_send
from notifications.services.suppression import suppression_add

__all__ = [
    "MessageRequest",
    "message_cancel",
    "message_render",
    "message_retry",
    "message_schedule",
    "message_send",
    "message_send_now",
    "message_settle",
    "messages_cancel",
    "messages_claim_due",
    "messages_dispatch_due",
    "messages_recover_stuck",
    "messages_send",
    "suppression_add",
]
