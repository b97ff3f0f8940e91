from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from loyalty import messages
        from loyalty.earning.bonuses import review_points_offer
        from loyalty.earning.subscribers import SUBSCRIPTIONS
        from postpurchase import events, incentives, message_kinds

        # Earning, clawback, bonuses and birthdays hear of orders, returns and reviews here.
        for name, handler, key in SUBSCRIPTIONS:
            events.subscribe(name, handler, key=key)
        message_kinds.register(messages.KINDS, app=self.name)
        # Review points are an incentive the storefront must disclose on every review it shows.
        incentives.review_points_register("loyalty", review_points_offer)
