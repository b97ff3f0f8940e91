from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from feedback import messages
        from feedback.surveys.texts import survey_text_reply_handle
        from notifications.services import inbound_text_handler_register
        from postpurchase import message_kinds

        # What this app owes customers (the survey, its reminder and text replies, the review
        # request), which the messaging engine schedules, renders and sends.
        message_kinds.register(messages.KINDS, app=self.name)
        # A customer's text that is not STOP/START/HELP may be a survey's score or its "why".
        inbound_text_handler_register("feedback.survey", survey_text_reply_handle)
