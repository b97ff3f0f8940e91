"""The ledger's entries as the customer reads them: "+120 for order #1042", "-120: item
returned". Called inside the customer's locale (`CustomerLocale.active()`), so the words and the
numbers' grouping are theirs."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from loyalty.models import EntryKind, LedgerEntry, Subject

MINUS = "\u2212"  # a real minus sign: a hyphen reads as a dash


def points_signed(points: int) -> str:
    grouped = number_format(abs(points), force_grouping=True)
    return f"{MINUS}{grouped}" if points < 0 else f"+{grouped}"


def points_plain(points: int) -> str:
    return number_format(points, force_grouping=True)


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    text: str
    # 1 a credit, -1 a debit, 0 points moved from pending to available.
    direction: int


def _order_number(entry: LedgerEntry) -> str:
    return entry.order.number if entry.order is not None else ""


def _earned(entry: LedgerEntry, signed: str) -> str:
    number = _order_number(entry)
    if entry.subject in (Subject.ORDER, Subject.ORDER_LINE) and number:
        if entry.pending_delta:
            return _("%(points)s for order %(number)s (pending)") % {
                "points": signed,
                "number": number,
            }
        return _("%(points)s for order %(number)s") % {"points": signed, "number": number}
    if entry.subject == Subject.REVIEW:
        if entry.idempotency_key.startswith("photo_review:"):
            return _("%(points)s for the photos in your review") % {"points": signed}
        return _("%(points)s for your review") % {"points": signed}
    if entry.subject == Subject.BIRTHDAY:
        return _("%(points)s for your birthday") % {"points": signed}
    if entry.subject == Subject.ANNIVERSARY:
        return _("%(points)s for your first-order anniversary") % {"points": signed}
    if entry.subject == Subject.REFERRAL:
        return _("%(points)s for referring a friend") % {"points": signed}
    return _("%(points)s earned") % {"points": signed}


def _taken_back(entry: LedgerEntry, signed: str) -> str:
    if entry.subject == Subject.RETURN_ITEM:
        return _("%(points)s: item returned") % {"points": signed}
    number = _order_number(entry)
    if number:
        return _("%(points)s: order %(number)s cancelled or refunded") % {
            "points": signed,
            "number": number,
        }
    return _("%(points)s taken back") % {"points": signed}


def history_line(entry: LedgerEntry) -> HistoryLine:
    points = entry.points
    signed = points_signed(points)
    kind = entry.kind
    if kind == EntryKind.CONFIRM:
        moved = points_plain(entry.available_delta)
        number = _order_number(entry)
        if number:
            text = _("%(points)s points for order %(number)s confirmed") % {
                "points": moved,
                "number": number,
            }
        else:
            text = _("%(points)s points confirmed") % {"points": moved}
    elif kind == EntryKind.EARN:
        text = _earned(entry, signed)
    elif kind == EntryKind.CLAWBACK:
        text = _taken_back(entry, signed)
    elif kind == EntryKind.REDEEM:
        text = _("%(points)s: reward redeemed") % {"points": signed}
    elif kind == EntryKind.EXPIRE:
        text = _("%(points)s expired") % {"points": signed}
    elif kind == EntryKind.RETURN:
        text = _("%(points)s: unused reward, points returned") % {"points": signed}
    elif kind == EntryKind.ADJUST:
        text = _("%(points)s: adjusted by the shop") % {"points": signed}
    else:
        text = _("%(points)s transferred") % {"points": signed}
    return HistoryLine(at=entry.created_at, text=text, direction=(points > 0) - (points < 0))
