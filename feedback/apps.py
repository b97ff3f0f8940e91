from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from feedback.analysis import sources
        from notifications.engine.inbound import inbound_subscribe
        from orders.events import OrderEventName
        from postpurchase import events

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
