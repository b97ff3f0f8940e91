from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import inbound

        from feedback.cases import inbound as case_inbound
        from feedback.cases import messages as case_messages
        from feedback.cases.services import problem_reported_open_case
        from notifications.services import register_inbound_text_handler
        from orders.events import OrderEventName
        from postpurchase import events, message_kinds
        from postpurchase.shell.nav import NavSection, nav_register

        nav_register(
            NavSection(key="feedback", label="Feedback", url_name="feedback_cases:queue", order=35)
        )
        message_kinds.register(case_messages.KINDS, app=self.name)
        # Problem reports are cases too: one queue.
        events.subscribe(
            OrderEventName.PROBLEM_REPORTED,
            problem_reported_open_case,
            key="feedback.problem_reported.case",
        )
        # Texts the customers send: survey replies' handler goes first (a bare "9" answers a
        # survey), then this one, which files the rest under the customer's open case.
        register_inbound_text_handler(case_inbound.case_text_reply_take)
        inbound.connect(case_inbound.case_email_received, dispatch_uid="feedback.case_email")
