from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from loyalty import messages
        from loyalty.earning.subscribers import SUBSCRIPTIONS
        from postpurchase import events, message_kinds

        # Earning, clawback, bonuses and birthdays hear of orders, returns and reviews here.
        for name, handler, key in SUBSCRIPTIONS:
            events.subscribe(name, handler, key=key)
        message_kinds.register(messages.KINDS, app=self.name)
