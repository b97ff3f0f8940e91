from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from loyalty.dashboard.tones import REDEMPTION_STATUS_TONES, REFERRAL_STATUS_TONES
        from postpurchase import status_tones
        from postpurchase.shell.nav import NavSection, nav_register

        status_tones.register("redemption", REDEMPTION_STATUS_TONES)
        status_tones.register("referral", REFERRAL_STATUS_TONES)

        # The Loyalty section, after Feedback as the UI guide lists the sections; it opens on
        # the programme's numbers (members and settings are tabs beside them).
        nav_register(
            NavSection(
                key="loyalty", label="Loyalty", url_name="loyalty_dashboard:overview", order=47
            )
        )
