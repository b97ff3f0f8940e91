"""The messaging engine's public entry points, for the other apps and for ops: what they call
to owe a customer a message, cancel what became moot, send, render and suppress. The code lives
in `notifications.engine`; this module only names what others may use. One finding of the
flows is public too: whose birthday or first-order anniversary is due now in their zone
(`occasions_due`), which loyalty's bonuses read rather than work out again."""

from notifications.engine.dispatch import (
    messages_claim_due,
    messages_dispatch_due,
    messages_recover_stuck,
)
from notifications.engine.flow_settings import flow_delay_for, flow_delay_set
from notifications.engine.inbound_texts import (
    InboundText,
    inbound_subscribe,
    inbound_text_handler_register,
    inbound_text_handler_unregister,
    inbound_unsubscribe,
)
from notifications.engine.kinds import flow_enabled_of_kind, flows_enabled_for_kind, flows_for
from notifications.engine.operations import (
    message_cancel,
    message_retry,
    message_send_now,
    message_settle,
)
from notifications.engine.planning import flow_schedule
from notifications.engine.rendering import message_render, whatsapp_window_open
from notifications.engine.scheduling import MessageRequest, message_schedule, messages_cancel
from notifications.engine.sending import message_refusal, message_send, messages_send
from notifications.engine.suppression import suppression_add
from notifications.flows.occasions import ANNIVERSARY, BIRTHDAY, OccasionDue, occasions_due

__all__ = [
    "ANNIVERSARY",
    "BIRTHDAY",
    "InboundText",
    "MessageRequest",
    "OccasionDue",
    "flow_delay_for",
    "flow_delay_set",
    "flow_enabled_of_kind",
    "flow_schedule",
    "flows_enabled_for_kind",
    "flows_for",
    "inbound_subscribe",
    "inbound_text_handler_register",
    "inbound_text_handler_unregister",
    "inbound_unsubscribe",
    "message_cancel",
    "message_refusal",
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
    "occasions_due",
    "suppression_add",
    "whatsapp_window_open",
]
