from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from postpurchase.shell.nav import NavSection, nav_register

        nav_register(
            NavSection(key="reviews", label="Reviews", url_name="reviews_dashboard:queue", order=40)
        )
