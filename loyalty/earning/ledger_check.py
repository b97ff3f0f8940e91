"""The nightly check that the ledger adds up: every member's balance row equals the sum of
their entries, and their open lots hold exactly their available points (none when the balance
is negative). Any drift is recorded (`LedgerCheck`) and logged as an error naming member ids
only: the log carries no personal data."""

import logging

from django.db.models import Sum

from loyalty.ledger import balances_summed
from loyalty.models import LedgerCheck, Member, PointLot

logger = logging.getLogger(__name__)

BATCH = 2000


def _lots_summed(member_ids: list[int]) -> dict[int, int]:
    rows = (
        PointLot.objects.filter(member_id__in=member_ids, remaining__gt=0)
        .values("member_id")
        .annotate(remaining=Sum("remaining"))
    )
    return {row["member_id"]: row["remaining"] or 0 for row in rows}


def ledger_check(*, batch: int = BATCH) -> LedgerCheck:
    """Compare every member, `batch` at a time in id order; returns the run's record."""
    drift: list[dict] = []
    checked = 0
    last_id = 0
    while True:
        members = list(
            Member.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values("pk", "shop_id", "available", "pending")[:batch]
        )
        if not members:
            break
        ids = [m["pk"] for m in members]
        summed = balances_summed(ids)
        lots = _lots_summed(ids)
        for member in members:
            available, pending = summed.get(member["pk"], (0, 0))
            in_lots = lots.get(member["pk"], 0)
            stored = {"available": member["available"], "pending": member["pending"]}
            if (available, pending) != (stored["available"], stored["pending"]) or in_lots != max(
                stored["available"], 0
            ):
                drift.append(
                    {
                        "member_id": member["pk"],
                        "shop_id": member["shop_id"],
                        "stored": stored,
                        "summed": {"available": available, "pending": pending, "lots": in_lots},
                    }
                )
        checked += len(members)
        last_id = ids[-1]
    run = LedgerCheck.objects.create(members_checked=checked, drift=drift)
    if drift:
        logger.error(
            "ledger check %s: %s of %s members drifted: member ids %s",
            run.pk,
            len(drift),
            checked,
            [row["member_id"] for row in drift],
        )
    return run
