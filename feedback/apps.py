from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from feedback import messages
        from feedback.analysis import sources
        from feedback.surveys.texts import survey_text_reply_handle
        from notifications.services import inbound_subscribe, inbound_text_handler_register
        from orders.events import OrderEventName
        from postpurchase import events, message_kinds
        from postpurchase.shell.nav import NavSection, nav_register

        # What this app owes customers (the survey, its reminder and text replies, the review
        # request), which the messaging engine schedules, renders and sends.
        message_kinds.register(messages.KINDS, app=self.name)
        # A customer's text that is not STOP/START/HELP may be a survey's score or its "why".
        inbound_text_handler_register("feedback.survey", survey_text_reply_handle)

        # What customers write elsewhere is read as it arrives: the tracking page's problem
        # reports (an `orders` event) and the texts they send us (the engine's subscribers).
        events.subscribe(
            OrderEventName.PROBLEM_REPORTED,
            sources.problem_reported_analyse,
            key="feedback.problem_reported_analyse",
        )
        inbound_subscribe("feedback.inbound_text_analyse", sources.inbound_text_analyse)
        # An erased customer's words are erased here too.
        events.subscribe(
            OrderEventName.CUSTOMER_REDACTED,
            sources.customer_redacted_erase,
            key="feedback.customer_redacted_erase",
        )
        # The Feedback section, between Messages and Customers as the UI guide lists them; it
        # opens on the review queue until the feedback numbers page exists.
        nav_register(
            NavSection(
                key="feedback", label="Feedback", url_name="reviews_dashboard:queue", order=45
            )
        )
