"""What an item is worth when it comes back: its price after the order's discounts, to the
cent. Order-level discounts are spread over the lines in proportion to their value, the cents
left by rounding going to the lines with the largest remainders, so the lines always add up to
what the customer paid for them."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from orders.models import LineItem, Order

CENT = Decimal("0.01")


def _line_net(line: LineItem) -> Decimal:
    return line.unit_price * line.quantity - line.discount_total


def line_values(order: Order, lines: list[LineItem]) -> dict[int, Decimal]:
    """Each line's value after its own and its share of the order's discounts (the whole
    line, all units), in the order's currency."""
    nets = {line.pk: max(_line_net(line), Decimal(0)) for line in lines}
    total = sum(nets.values(), Decimal(0))
    line_discounts = sum((line.discount_total for line in lines), Decimal(0))
    order_discount = max(order.discount_total - line_discounts, Decimal(0))
    order_discount = min(order_discount, total)
    if not order_discount or not total:
        return nets
    shares = {pk: order_discount * net / total for pk, net in nets.items()}
    floored = {pk: share.quantize(CENT, rounding=ROUND_DOWN) for pk, share in shares.items()}
    left = int((order_discount - sum(floored.values())) / CENT)
    by_remainder = sorted(nets, key=lambda pk: (shares[pk] - floored[pk], -pk), reverse=True)
    for pk in by_remainder[:left]:
        floored[pk] += CENT
    return {pk: nets[pk] - floored[pk] for pk in nets}


def returned_value(line_value: Decimal, line_quantity: int, quantity: int) -> Decimal:
    """The value of `quantity` units of a line worth `line_value` for `line_quantity` units."""
    if quantity >= line_quantity:
        return line_value
    return (line_value * quantity / line_quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def with_bonus(value: Decimal, bonus_percent: Decimal) -> Decimal:
    return (value * (Decimal(100) + bonus_percent) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
