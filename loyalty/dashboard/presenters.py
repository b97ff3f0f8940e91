"""How the loyalty pages say things: a ledger entry in words, the earning preview, and the
numbers page's cards (each figure as text with its change against the previous range: arrow,
word and percent, never colour alone) and charts (with the same numbers in a table)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from loyalty.dashboard.selectors import LoyaltyNumbers
from loyalty.earning.orders import points_for
from loyalty.models import EntryKind, LedgerEntry, Programme, Subject, Tier
from orders.dashboard.figures import FigureCard as Card
from orders.dashboard.figures import change_between as _change
from postpurchase import charts
from postpurchase.templatetags.dashboard import dashboard_date, money


def _signed(points: int) -> str:
    return f"+{points:,}" if points > 0 else f"−{abs(points):,}"


def entry_words(entry: LedgerEntry) -> str:
    """ "+120 for order #1042", "-120: item returned", "+50 by ana@shop.test: goodwill"."""
    points = entry.points if entry.kind != EntryKind.CONFIRM else entry.available_delta
    n = _signed(points)
    number = entry.order.number if entry.order_id and entry.order else ""
    kind = entry.kind
    if kind == EntryKind.EARN:
        bonus = {
            Subject.REVIEW: _("for a review"),
            Subject.BIRTHDAY: _("birthday bonus"),
            Subject.ANNIVERSARY: _("first-order anniversary bonus"),
            Subject.REFERRAL: _("for a referral"),
        }.get(Subject(entry.subject))
        if bonus:
            return f"{n} {bonus}"
        if number and entry.pending_delta > 0:
            return _("%(n)s for order %(number)s (pending)") % {"n": n, "number": number}
        if number:
            return _("%(n)s for order %(number)s") % {"n": n, "number": number}
        return _("%(n)s earned") % {"n": n}
    if kind == EntryKind.CONFIRM:
        if number:
            return _("%(n)s confirmed: order %(number)s is past its return window") % {
                "n": n,
                "number": number,
            }
        return _("%(n)s confirmed") % {"n": n}
    if kind == EntryKind.CLAWBACK:
        if entry.subject == Subject.RETURN_ITEM:
            words = _("%(n)s: item returned") % {"n": n}
        else:
            words = _("%(n)s taken back") % {"n": n}
        return f"{words} ({number})" if number else words
    if kind == EntryKind.ADJUST:
        actor = entry.actor if entry.actor_id else None
        api_key = entry.api_key if entry.api_key_id else None
        if api_key is not None:
            who = _("API key “%(name)s”") % {"name": api_key.name}
        elif actor is not None:
            who = actor.email or actor.get_username()
        else:
            who = _("staff")
        return _("%(n)s by %(who)s: %(reason)s") % {"n": n, "who": who, "reason": entry.reason}
    simple = {
        EntryKind.REDEEM: _("%(n)s for a reward"),
        EntryKind.RETURN: _("%(n)s: an unused reward's points came back"),
        EntryKind.EXPIRE: _("%(n)s expired"),
        EntryKind.TRANSFER: _("%(n)s transferred"),
    }
    words = simple.get(EntryKind(kind), "%(n)s") % {"n": n}
    return f"{words}: {entry.reason}" if entry.reason and kind == EntryKind.TRANSFER else words


# The earning preview --------------------------------------------------------------------------


@dataclass(frozen=True)
class EarningPreview:
    total: Decimal
    tier_name: str
    multiplier: Decimal
    points: int
    value: Decimal
    currency: str
    return_window_days: int
    confirm_if_delivered_today: date


def earning_preview(
    *,
    programme: Programme,
    tier: Tier | None,
    total: Decimal,
    currency: str,
    return_window_days: int,
    today: date,
    points_per_unit: Decimal | None = None,
    point_value: Decimal | None = None,
) -> EarningPreview:
    """What a sample order would earn: its points (with the tier's multiplier), pending until
    its return window closes after delivery, and what they are worth to the shop. The rates
    typed on the settings form (not saved yet) win over the saved ones."""
    multiplier = tier.earn_multiplier if tier is not None else Decimal("1")
    per_unit = programme.points_per_unit if points_per_unit is None else points_per_unit
    worth = programme.point_value if point_value is None else point_value
    points = points_for(total, per_unit, multiplier)
    return EarningPreview(
        total=total,
        tier_name=tier.name if tier is not None else "",
        multiplier=multiplier,
        points=points,
        value=(points * worth).quantize(Decimal("0.01"), ROUND_HALF_UP),
        currency=currency,
        return_window_days=return_window_days,
        confirm_if_delivered_today=today + timedelta(days=return_window_days),
    )


# The numbers ----------------------------------------------------------------------------------


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value} %"


def _int(value: int) -> str:
    return f"{value:,}"


def numbers_page(numbers: LoyaltyNumbers) -> dict[str, Any]:
    cur, prev = numbers.current, numbers.previous
    members_url = reverse("loyalty_dashboard:members")
    liability = numbers.liability
    currency = liability.currency
    member_cards = [
        Card(
            "members",
            _("Members"),
            _int(numbers.members_total),
            _("%(n)s joined in the period") % {"n": _int(cur.new_members)},
            _change(cur.new_members, prev.new_members),
            url=members_url,
        ),
        Card(
            "participation",
            _("Participation"),
            _pct(cur.participation),
            _("%(m)s of %(c)s customers who ordered in the period are members")
            % {
                "m": _int(cur.members.customers),
                "c": _int(cur.members.customers + cur.others.customers),
            },
            _change(cur.participation, prev.participation),
        ),
    ]
    flows, flows_before = cur.flows, prev.flows
    point_cards = [
        Card(
            "issued",
            _("Points issued"),
            _int(flows.issued),
            _("earned on orders (pending at first) and as bonuses"),
            _change(flows.issued, flows_before.issued),
        ),
        Card(
            "redeemed",
            _("Points redeemed"),
            _int(flows.redeemed),
            _("spent on rewards, less unused rewards' points returned"),
            _change(flows.redeemed, flows_before.redeemed),
        ),
        Card(
            "redemption-rate",
            _("Redemption rate"),
            _pct(flows.redemption_rate),
            _("points redeemed for every 100 issued in the period"),
            _change(flows.redemption_rate, flows_before.redemption_rate),
        ),
        Card(
            "expired",
            _("Points expired"),
            _int(flows.expired),
            _("lots that reached their expiry date unspent"),
            _change(flows.expired, flows_before.expired, higher_is_better=False),
        ),
        Card(
            "taken-back",
            _("Points taken back"),
            _int(flows.taken_back),
            _("for returned items and cancelled orders"),
            _change(flows.taken_back, flows_before.taken_back, higher_is_better=False),
        ),
        Card(
            "adjusted",
            _("Staff adjustments (net)"),
            f"{flows.adjusted:+,}",
            _("added minus taken by staff, each with its reason"),
        ),
    ]
    buyer_rows = [
        (
            _("Members"),
            cur.members,
            prev.members,
        ),
        (
            _("Other customers"),
            cur.others,
            prev.others,
        ),
    ]
    weeks = numbers.weeks
    issued_chart = charts.bar_chart([(dashboard_date(w.first), w.issued) for w in weeks])
    redeemed_chart = charts.bar_chart([(dashboard_date(w.first), w.redeemed) for w in weeks])
    tier_rows = [(t.name or _("No tier yet"), t.members) for t in numbers.tiers]
    moves, moves_before = cur.tier_moves, prev.tier_moves
    refs, refs_before = cur.referrals, prev.referrals
    return {
        "against": _("on the previous %(n)s days") % {"n": numbers.period.days},
        "subtitle": _("The programme from %(first)s to %(last)s, against the %(n)s days before")
        % {
            "first": dashboard_date(numbers.period.first),
            "last": dashboard_date(numbers.period.last),
            "n": numbers.period.days,
        },
        "member_cards": member_cards,
        "point_cards": point_cards,
        "liability": {
            "available_points": _int(liability.available_points),
            "available_value": money(liability.available_value, currency),
            "pending_points": _int(liability.pending_points),
            "pending_value": money(liability.pending_value, currency),
            "reserved_points": _int(liability.reserved_points),
            "point_value": f"{liability.point_value.normalize():f} {currency}",
            "debt_points": _int(liability.debt_points),
            "members_in_debt": _int(liability.members_in_debt),
            "as_of": liability.as_of,
        },
        "buyer_rows": [
            {
                "label": label,
                "customers": _int(now.customers),
                "repeat_rate": _pct(now.repeat_rate),
                "repeat_change": _change(now.repeat_rate, before.repeat_rate),
                "average_order": money(now.average_order, currency)
                if now.average_order is not None
                else "—",
                "average_change": _change(now.average_order, before.average_order),
            }
            for label, now, before in buyer_rows
        ],
        "weeks": weeks,
        "issued_chart": issued_chart if any(w.issued for w in weeks) else None,
        "redeemed_chart": redeemed_chart if any(w.redeemed for w in weeks) else None,
        "tier_chart": charts.bar_chart(tier_rows) if any(n for _l, n in tier_rows) else None,
        "tier_rows": tier_rows,
        "tier_moves": [
            (_("Joined a first tier"), moves["joined"], moves_before["joined"]),
            (_("Moved up"), moves["up"], moves_before["up"]),
            (_("Moved down (yearly review)"), moves["down"], moves_before["down"]),
        ],
        "referral_rows": [
            (_("Invited"), refs["invited"], refs_before["invited"]),
            (_("Ordered"), refs["ordered"], refs_before["ordered"]),
            (_("Referrer rewarded"), refs["rewarded"], refs_before["rewarded"]),
            (_("Refused (self-referral, monthly cap)"), refs["refused"], refs_before["refused"]),
            (_("Flagged for review"), refs["flagged"], refs_before["flagged"]),
        ],
        "referral_conversion": _pct(
            None
            if not refs["invited"]
            else (Decimal(refs["rewarded"]) * 100 / refs["invited"]).quantize(
                Decimal("0.1"), ROUND_HALF_UP
            )
        ),
    }
