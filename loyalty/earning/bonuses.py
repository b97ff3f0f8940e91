"""Points for what customers do rather than buy, made available at once: a published review
(whatever its rating: an incentive tied to sentiment is forbidden, so the rating is never read)
and more for one with photos."""

from loyalty.earning.orders import programme_active
from loyalty.ledger import Booking, entry_book, member_for
from loyalty.models import EntryKind, Subject
from orders.models import Customer


def review_points_award(
    *, shop_id: int, review_id: int, customer_id: int | None, has_photos: bool
) -> int:
    """Book the review bonus (`review:<id>`) and the photo bonus (`photo_review:<id>`) once per
    review, however often it is published or edited; returns the points booked now."""
    programme = programme_active(shop_id)
    if programme is None or customer_id is None:
        return 0
    customer = Customer.objects.filter(pk=customer_id, shop_id=shop_id).first()
    if customer is None:
        return 0
    member = member_for(customer)
    bonuses = [(f"review:{review_id}", programme.review_points, "review published")]
    if has_photos:
        bonuses.append(
            (f"photo_review:{review_id}", programme.photo_review_points, "review with photos")
        )
    booked = 0
    for key, points, reason in bonuses:
        if points <= 0:
            continue
        result = entry_book(
            member.pk,
            Booking(
                kind=EntryKind.EARN,
                key=key,
                subject=Subject.REVIEW,
                subject_id=review_id,
                available=points,
                reason=reason,
            ),
        )
        booked += points if result.created else 0
    return booked


def review_points_offer(shop_id: int) -> int:
    """What any published review of the shop earns (the photo bonus aside): registered with the
    kernel so the storefront discloses the incentive."""
    programme = programme_active(shop_id)
    return programme.review_points if programme is not None else 0
