from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from loyalty import messages
        from loyalty.dashboard.tones import REDEMPTION_STATUS_TONES, REFERRAL_STATUS_TONES
        from loyalty.earning.bonuses import review_points_offer
        from loyalty.earning.subscribers import SUBSCRIPTIONS
        from postpurchase import events, incentives, message_kinds, status_tones
        from postpurchase.shell.nav import NavSection, nav_register

        # Earning, clawback, bonuses and birthdays hear of orders, returns and reviews here.
        for name, handler, key in SUBSCRIPTIONS:
            events.subscribe(name, handler, key=key)
        message_kinds.register(messages.KINDS, app=self.name)
        # Review points are an incentive the storefront must disclose on every review it shows.
        incentives.review_points_register("loyalty", review_points_offer)

        status_tones.register("redemption", REDEMPTION_STATUS_TONES)
        status_tones.register("referral", REFERRAL_STATUS_TONES)
        # The Loyalty section, after Feedback as the UI guide lists the sections; it opens on
        # the programme's numbers (members and settings are tabs beside them).
        nav_register(
            NavSection(
                key="loyalty", label="Loyalty", url_name="loyalty_dashboard:overview", order=47
            )
        )
