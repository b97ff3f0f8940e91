from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications.services import lifecycle
        from orders import events
        from orders.models import EventName

        events.subscribe(
            EventName.ORDER_PLACED,
            lifecycle.order_event_schedule_messages,
            key="notifications.order_placed",
        )
        events.subscribe(
            EventName.ORDER_CANCELLED,
            lifecycle.order_cancelled_cancel_messages,
            key="notifications.order_cancelled",
        )
