from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from loyalty import messages
        from loyalty.earning.bonuses import review_points_offer
        from loyalty.earning.subscribers import SUBSCRIPTIONS
        from loyalty.rewards.redemption import order_placed_mark_rewards_used
        from orders.events import OrderEventName
        from postpurchase import events, incentives, message_kinds

        # Earning, clawback, bonuses and birthdays hear of orders, returns and reviews here.
        for name, handler, key in SUBSCRIPTIONS:
            events.subscribe(name, handler, key=key)
        message_kinds.register(messages.KINDS, app=self.name)
        # Review points are an incentive the storefront must disclose on every review it shows.
        incentives.review_points_register("loyalty", review_points_offer)

        # Rewards: an order carrying a reward's code marks it used (placed, or paid when the
        # code only shows then); the handler is idempotent either way.
        for name in (OrderEventName.ORDER_PLACED, OrderEventName.ORDER_PAID):
            events.subscribe(
                name, order_placed_mark_rewards_used, key=f"loyalty.{name}.rewards_mark_used"
            )
