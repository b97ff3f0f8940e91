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
        from feedback.cases import subscribers as case_subscribers
        from feedback.cases.selectors import order_cases_panel
        from feedback.cases.services import problem_reported_open_case
        from feedback.cases.sla import SLA_STATE_TONES
        from feedback.events import FeedbackEventName
        from feedback.models.cases import CASE_PRIORITY_TONES, CASE_STATUS_TONES
        from feedback.models.reviews import REVIEW_STATUS_TONES
        from feedback.surveys.texts import survey_text_reply_handle
        from notifications.services import inbound_subscribe, inbound_text_handler_register
        from orders.dashboard.panels import OrderPanel, order_panel_register
        from orders.events import OrderEventName
        from postpurchase import events, message_kinds, status_tones
        from postpurchase.shell.nav import NavSection, nav_register

        # The chips' tones on the case and review pages, kept next to the statuses' labels.
        status_tones.register("case", CASE_STATUS_TONES)
        status_tones.register("case_priority", CASE_PRIORITY_TONES)
        status_tones.register("case_sla", SLA_STATE_TONES)
        status_tones.register("review", REVIEW_STATUS_TONES)

        # The Feedback section, between Messages and Customers as the UI guide lists them; it
        # opens on the numbers (the cases and reviews' queues are tabs beside it).
        nav_register(
            NavSection(
                key="feedback", label="Feedback", url_name="feedback_numbers:overview", order=45
            )
        )
        # The order page (in `orders`, which may not import feedback) shows the order's
        # follow-up cases and lets staff open one by hand, after the order's returns.
        order_panel_register(
            OrderPanel(
                key="feedback_cases",
                template_name="feedback/cases/_order_cases.html",
                context=order_cases_panel,
                order=20,
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
        # The parts wired together: an unhappy answer or review opens a case (the "why" that
        # follows joins it), and every survey "why" and review is read. Each subscriber is
        # keyed, so a redelivered event reaches it once; each service is idempotent anyway.
        wiring = (
            (FeedbackEventName.SURVEY_ANSWERED, case_subscribers.survey_answered_open_case),
            (FeedbackEventName.SURVEY_COMMENTED, case_subscribers.survey_commented_case_words),
            (FeedbackEventName.REVIEW_SUBMITTED, case_subscribers.review_submitted_open_case),
            (FeedbackEventName.SURVEY_ANSWERED, sources.survey_answer_analyse),
            (FeedbackEventName.SURVEY_COMMENTED, sources.survey_answer_analyse),
            (FeedbackEventName.REVIEW_SUBMITTED, sources.review_analyse),
        )
        for name, handler in wiring:
            events.subscribe(name, handler, key=f"feedback.{name}.{handler.__name__}")
        # Every text customers send us is read (listeners hear keywords too).
        inbound_subscribe("feedback.inbound_text_analyse", sources.inbound_text_analyse)
        # An erased customer's words are erased here too.
        events.subscribe(
            OrderEventName.CUSTOMER_REDACTED,
            sources.customer_redacted_erase,
            key="feedback.customer_redacted_erase",
        )
