from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications.models import MESSAGE_STATUS_TONES
        from postpurchase import status_tones

        status_tones.register("message", MESSAGE_STATUS_TONES)
        from anymail.signals import tracking

        from notifications import checks, receivers  # noqa: F401 - checks register on import
        from notifications.dashboard.figures import messages_failed, messages_held
        from notifications.dashboard.integrations import integration_sections_register
        from notifications.engine import planning
        from notifications.flows import messages
        from notifications.flows.replenishment import order_placed_cancel_replenishment
        from orders.dashboard.figures import OverviewFigure, overview_figure_register
        from orders.events import OrderEventName
        from postpurchase import events, message_kinds
        from postpurchase.shell.nav import NavSection, nav_register

        nav_register(
            NavSection(key="messages", label="Messages", url_name="messaging:overview", order=40)
        )
        nav_register(
            NavSection(
                key="customers", label="Customers", url_name="messaging:customer_list", order=50
            )
        )

        # The overview (in `orders`, which may not import this app) counts what needs a look.
        overview_figure_register(
            OverviewFigure(
                key="messages_failed",
                label="Messages failed",
                hint="in the last 30 days",
                figure=messages_failed,
                order=20,
                # More failures than the 30 days before is bad news.
                higher_is_better=False,
            )
        )
        overview_figure_register(
            OverviewFigure(
                key="messages_held",
                label="Messages held",
                hint="waiting for review before they are sent",
                figure=messages_held,
                order=30,
            )
        )

        # The settings area's integrations tab (in `orders`) shows our providers this way.
        integration_sections_register()

        # The engine plans the messages of every kind any app registers, before or after this
        # app's own: it listens to the registry, not to the apps.
        message_kinds.listen(planning.kind_registered)
        message_kinds.register(messages.KINDS, app=self.name)
        events.subscribe(
            OrderEventName.ORDER_CANCELLED,
            planning.order_cancelled_cancel_messages,
            key="notifications.order_cancelled",
        )
        events.subscribe(
            OrderEventName.ORDER_PLACED,
            order_placed_cancel_replenishment,
            key="notifications.order_placed.replenishment_cancel",
        )
        tracking.connect(
            receivers.email_tracking_received, dispatch_uid="notifications.email_tracking"
        )
