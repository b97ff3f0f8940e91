from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from postpurchase.shell.nav import NavSection, nav_register

        # The Feedback section, between Messages and Customers as the UI guide lists them; it
        # opens on the review queue until the feedback numbers page exists.
        nav_register(
            NavSection(
                key="feedback", label="Feedback", url_name="reviews_dashboard:queue", order=45
            )
        )
