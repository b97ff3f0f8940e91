from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from postpurchase import events, message_kinds
        from postpurchase.shell.nav import NavSection, nav_register
        from returns import messages
        from returns.events import ReturnEventName

        nav_register(
            NavSection(key="returns", label="Returns", url_name="returns_dashboard:queue", order=30)
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
