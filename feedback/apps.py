from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import inbound

        from feedback import messages
        from feedback.analysis import sources
        from feedback.cases import inbound as case_inbound
        from feedback.cases import messages as case_messages
        from feedback.cases.services import problem_reported_open_case
        from feedback.surveys.texts import survey_text_reply_handle
        from notifications.services import inbound_subscribe, inbound_text_handler_register
        from orders.events import OrderEventName
        from postpurchase import events, message_kinds
        from postpurchase.shell.nav import NavSection, nav_register

        # The Feedback section, between Messages and Customers as the UI guide lists them; it
        # opens on the numbers (the cases and reviews' queues are tabs beside it).
        nav_register(
            NavSection(
                key="feedback", label="Feedback", url_name="feedback_numbers:overview", order=45
            )
        )
        # What this app owes customers (the survey, its reminder and text replies, the review
        # request; a case's replies and its "did we make it right?"), which the messaging
        # engine schedules, renders and sends.
        message_kinds.register(messages.KINDS, app=self.name)
        message_kinds.register(case_messages.KINDS, app=self.name)

        # A customer's text that is not STOP/START/HELP: a survey's score or its "why" first
        # (a bare "9" answers a survey), then a reply filed under the customer's open case.
        inbound_text_handler_register("feedback.survey", survey_text_reply_handle)
        inbound_text_handler_register("feedback.case", case_inbound.case_text_reply_take)
        # An email reply to a case, through the email provider's inbound webhook.
        inbound.connect(case_inbound.case_email_received, dispatch_uid="feedback.case_email")

        # Problem reports are cases too (one queue), and what they say is read.
        events.subscribe(
            OrderEventName.PROBLEM_REPORTED,
            problem_reported_open_case,
            key="feedback.problem_reported.case",
        )
        events.subscribe(
            OrderEventName.PROBLEM_REPORTED,
            sources.problem_reported_analyse,
            key="feedback.problem_reported_analyse",
        )
        # Every text customers send us is read (listeners hear keywords too).
        inbound_subscribe("feedback.inbound_text_analyse", sources.inbound_text_analyse)
        # An erased customer's words are erased here too.
        events.subscribe(
            OrderEventName.CUSTOMER_REDACTED,
            sources.customer_redacted_erase,
            key="feedback.customer_redacted_erase",
        )
