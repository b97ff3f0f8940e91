from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking

        from notifications import checks, receivers  # noqa: F401 - checks register on import
        from notifications.services import lifecycle
        from orders import events
        from orders.models import EventName

        for trigger in (
            EventName.ORDER_PLACED,
            EventName.SHIPMENT_CREATED,
            EventName.SHIPMENT_STATUS_CHANGED,
            EventName.ORDER_DELIVERED,
            # Returns: the customer hears of each step (notifications.services.returns).
            EventName.RETURN_REQUESTED,
            EventName.RETURN_APPROVED,
            EventName.RETURN_REJECTED,
            EventName.RETURN_RECEIVED,
            EventName.RETURN_RESOLVED,
        ):
            events.subscribe(
                trigger, lifecycle.event_schedule_messages, key=f"notifications.{trigger}"
            )
        events.subscribe(
            EventName.ORDER_CANCELLED,
            lifecycle.order_cancelled_cancel_messages,
            key="notifications.order_cancelled",
        )
        events.subscribe(
            EventName.RETURN_CANCELLED,
            lifecycle.return_cancelled_cancel_messages,
            key="notifications.return_cancelled",
        )
        events.subscribe(
            EventName.ORDER_PLACED,
            lifecycle.order_placed_cancel_replenishment,
            key="notifications.order_placed.replenishment_cancel",
        )
        tracking.connect(
            receivers.email_tracking_received, dispatch_uid="notifications.email_tracking"
        )
