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
        # What the programme owes customers, which the messaging engine schedules and sends.
        message_kinds.register(messages.KINDS, app=self.name)
        # Review points are an incentive the storefront must disclose on every review it shows.
        incentives.review_points_register("loyalty", review_points_offer)
        self._rewards_ready()
        self._tiers_and_referrals_ready()
        # The customer's cached page follows every change to what it shows.
        from loyalty.pages import invalidation

        invalidation.connect()

        status_tones.register("redemption", REDEMPTION_STATUS_TONES)
        status_tones.register("referral", REFERRAL_STATUS_TONES)
        # The Loyalty section, after Feedback as the UI guide lists the sections; it opens on
        # the programme's numbers (members and settings are tabs beside them).
        nav_register(
            NavSection(
                key="loyalty", label="Loyalty", url_name="loyalty_dashboard:overview", order=47
            )
        )

    def _rewards_ready(self) -> None:
        from loyalty.rewards.redemption import order_placed_mark_rewards_used
        from orders.events import OrderEventName
        from postpurchase import events

        # An order carrying a reward's code marks it used (placed, or paid when the code only
        # shows then); the handler is idempotent either way.
        for name in (OrderEventName.ORDER_PLACED, OrderEventName.ORDER_PAID):
            events.subscribe(
                name, order_placed_mark_rewards_used, key=f"loyalty.{name}.rewards_mark_used"
            )

    def _tiers_and_referrals_ready(self) -> None:
        from loyalty.tiers import subscribers
        from orders.events import OrderEventName
        from postpurchase import events

        # Tiers follow every paid, refunded or cancelled order and every resolved return
        # (returns' event, heard by name: loyalty never imports returns).
        for name in (
            OrderEventName.ORDER_PAID,
            OrderEventName.ORDER_REFUNDED,
            OrderEventName.ORDER_CANCELLED,
            "return_resolved",
        ):
            events.subscribe(
                name, subscribers.order_changed_tier_recompute, key=f"loyalty.{name}.tier"
            )
        # A referred friend's first paid order, and one cancelled or refunded before it counted.
        events.subscribe(
            OrderEventName.ORDER_PAID,
            subscribers.order_paid_referral,
            key="loyalty.order_paid.referral",
        )
        for name in (OrderEventName.ORDER_CANCELLED, OrderEventName.ORDER_REFUNDED):
            events.subscribe(
                name, subscribers.order_reversed_referral, key=f"loyalty.{name}.referral"
            )
