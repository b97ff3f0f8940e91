from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications.engine.templating import template_preview_context_register
        from notifications.flows.lifecycle import event_planner_register
        from postpurchase import events
        from postpurchase.shell.nav import NavSection, nav_register
        from returns import messages
        from returns.events import ReturnEventName

        nav_register(
            NavSection(key="returns", label="Returns", url_name="returns_dashboard:queue", order=30)
        )

        # The messaging engine sends what this app's events owe the customer; the messages are
        # about a return, so this app plans them and shows the editor what they carry.
        for name in messages.MESSAGE_EVENTS:
            event_planner_register(event=name, planner=messages.return_plans)
        template_preview_context_register(
            kinds=messages.RETURN_KINDS, context=messages.return_preview_context
        )
        # The key is the subscriber's name in events' delivery records: kept from when
        # notifications held this handler.
        events.subscribe(
            ReturnEventName.CANCELLED,
            messages.return_cancelled_cancel_messages,
            key="notifications.return_cancelled",
        )
