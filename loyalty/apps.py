from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from loyalty import messages
        from orders.events import OrderEventName
        from postpurchase import events, message_kinds

        # What this app owes customers, which the messaging engine schedules and sends.
        message_kinds.register(messages.KINDS, app=self.name)

        # --- Rewards: an order carrying a reward's code marks it used (placed, or paid when
        # the code only shows then); the handler is idempotent either way.
        from loyalty.rewards.redemption import order_placed_mark_rewards_used

        for name in (OrderEventName.ORDER_PLACED, OrderEventName.ORDER_PAID):
            events.subscribe(
                name, order_placed_mark_rewards_used, key=f"loyalty.{name}.rewards_mark_used"
            )
