from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking

        from notifications import checks, receivers  # noqa: F401 - checks register on import
        from notifications.engine.kinds import event_triggers
        from notifications.flows import lifecycle
        from orders.events import OrderEventName
        from postpurchase import events
        from postpurchase.shell.nav import NavSection, nav_register

        nav_register(
            NavSection(key="messages", label="Messages", url_name="messaging:overview", order=40)
        )
        nav_register(
            NavSection(
                key="customers", label="Customers", url_name="messaging:customer_list", order=50
            )
        )

        # Every event a default flow starts on, by name: orders' and the apps' above (returns'
        # own messages are planned by returns, which registers its planner).
        for trigger in event_triggers():
            events.subscribe(
                trigger, lifecycle.event_schedule_messages, key=f"notifications.{trigger}"
            )
        events.subscribe(
            OrderEventName.ORDER_CANCELLED,
            lifecycle.order_cancelled_cancel_messages,
            key="notifications.order_cancelled",
        )
        events.subscribe(
            OrderEventName.ORDER_PLACED,
            lifecycle.order_placed_cancel_replenishment,
            key="notifications.order_placed.replenishment_cancel",
        )
        tracking.connect(
            receivers.email_tracking_received, dispatch_uid="notifications.email_tracking"
        )
