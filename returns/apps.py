from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from postpurchase import status_tones
        from returns.models import RETURN_STATUS_TONES

        status_tones.register("return", RETURN_STATUS_TONES)
        from orders.dashboard.figures import OverviewFigure, overview_figure_register
        from orders.dashboard.panels import OrderPanel, order_panel_register
        from orders.shop_settings.sections import SettingsSection, settings_section_register
        from postpurchase import events, message_kinds
        from postpurchase.shell.nav import NavSection, nav_register
        from returns import messages
        from returns.dashboard.figures import returns_to_decide
        from returns.dashboard.selectors import order_returns_panel, return_address_section
        from returns.events import ReturnEventName

        nav_register(
            NavSection(key="returns", label="Returns", url_name="returns_dashboard:queue", order=30)
        )
        # The order page (in `orders`, which may not import returns) shows the order's returns
        # through this registration, as the navigation shows the section above.
        order_panel_register(
            OrderPanel(
                key="returns",
                template_name="returns/dashboard/_order_returns.html",
                context=order_returns_panel,
                order=10,
            )
        )

        # The settings area's profile tab (in `orders` too) lets the owner set where returns go.
        settings_section_register(
            SettingsSection(
                key="return_address",
                tab="profile",
                template_name="returns/dashboard/_settings_return_address.html",
                context=return_address_section,
                order=10,
            )
        )

        overview_figure_register(
            OverviewFigure(
                key="returns_to_decide",
                label="Returns to decide",
                hint="requested, waiting for approval",
                figure=returns_to_decide,
                order=10,
            )
        )

        # What this app's events owe the customer: its kinds, which the messaging engine
        # schedules, renders and sends.
        message_kinds.register(messages.KINDS, app=self.name)
        # The key is the subscriber's name in events' delivery records: kept from when
        # notifications held this handler.
        events.subscribe(
            ReturnEventName.CANCELLED,
            messages.return_cancelled_cancel_messages,
            key="notifications.return_cancelled",
        )
