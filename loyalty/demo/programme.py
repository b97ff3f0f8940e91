"""The demo shop's programme as it was launched a year ago: 1 point per dollar, points that
expire nine months after they are confirmed (so the first months' unspent points have expired
by now and the next ones are about to), three tiers on 12-month spend and a catalogue with one
reward of each kind."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loyalty.models import Programme, Reward, RewardKind, Tier
from orders.models import Product, Shop

EXPIRY_MONTHS = 9
# The shop's review incentive (feedback's demo offers 50 points a review): the same figure.
REVIEW_POINTS = 50
SILVER_FROM = Decimal("250")
GOLD_FROM = Decimal("600")
FREE_PRODUCT_TITLE = "Stoneware Mug, 12 oz"


@dataclass(frozen=True)
class DemoProgramme:
    programme: Programme
    tiers: list[Tier]
    # The catalogue, bought with points, cheapest first.
    rewards: list[Reward]


def _free_product(shop: Shop) -> Product | None:
    products = Product.objects.filter(shop=shop).order_by("pk")
    return products.filter(title=FREE_PRODUCT_TITLE).first() or products.first()


def demo_programme_create(*, shop: Shop, launched_at: datetime) -> DemoProgramme:
    """The programme, its tiers and rewards, created as of `launched_at` (the caller keeps
    their timestamps)."""
    currency = shop.currency
    stamp = {"created_at": launched_at, "updated_at": launched_at}
    product = _free_product(shop)
    catalogue = [
        Reward(
            shop=shop,
            name="Free shipping",
            kind=RewardKind.FREE_SHIPPING,
            points_price=300,
            position=0,
            **stamp,
        ),
        Reward(
            shop=shop,
            name=f"5 {currency} off",
            kind=RewardKind.AMOUNT_OFF,
            value=Decimal("5"),
            points_price=500,
            position=1,
            **stamp,
        ),
        Reward(
            shop=shop,
            name="10 % off",
            kind=RewardKind.PERCENT_OFF,
            value=Decimal("10"),
            points_price=1000,
            position=3,
            **stamp,
        ),
    ]
    if product is not None:
        catalogue.insert(
            2,
            Reward(
                shop=shop,
                name=f"A free {product.title}",
                kind=RewardKind.FREE_PRODUCT,
                product=product,
                points_price=800,
                position=2,
                **stamp,
            ),
        )
    # Granted, never bought: the referred friend's introduction and the birthday gift.
    welcome = Reward(
        shop=shop,
        name=f"Welcome: 10 {currency} off",
        kind=RewardKind.AMOUNT_OFF,
        value=Decimal("10"),
        points_price=0,
        is_active=False,
        position=4,
        **stamp,
    )
    birthday = Reward(
        shop=shop,
        name=f"Birthday: 10 {currency} off",
        kind=RewardKind.AMOUNT_OFF,
        value=Decimal("10"),
        points_price=0,
        is_active=False,
        position=5,
        **stamp,
    )
    Reward.objects.bulk_create([*catalogue, welcome, birthday])
    tiers = [
        Tier(shop=shop, name="Bronze", rank=0, threshold=Decimal("0"), **stamp),
        Tier(
            shop=shop,
            name="Silver",
            rank=1,
            threshold=SILVER_FROM,
            earn_multiplier=Decimal("1.25"),
            birthday_reward=birthday,
            **stamp,
        ),
        Tier(
            shop=shop,
            name="Gold",
            rank=2,
            threshold=GOLD_FROM,
            earn_multiplier=Decimal("1.5"),
            free_shipping_quarterly=True,
            early_access_tag="loyalty-gold",
            birthday_reward=birthday,
            **stamp,
        ),
    ]
    Tier.objects.bulk_create(tiers)
    programme = Programme.objects.create(
        shop=shop,
        name="Northwind Rewards",
        expiry_months=EXPIRY_MONTHS,
        review_points=REVIEW_POINTS,
        referral_friend_reward=welcome,
        referral_monthly_cap=3,
        **stamp,
    )
    return DemoProgramme(programme, tiers, sorted(catalogue, key=lambda r: r.points_price))
