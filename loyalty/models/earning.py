"""What each line of an order earned, and how much of it returns took back: the clawback of a
returned quantity is cumulative (returning every unit, in any number of returns, takes back
exactly what the line earned), so it needs the quantity returned so far."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from loyalty.models.ledger import OrderEarning
from orders.models import LineItem, Shop
from postpurchase.models import TimeStampedModel


class LineEarning(TimeStampedModel):
    """One paid line's points (`earn:line:<id>`), the quantity returned with a refund or store
    credit so far and the points taken back for it (by returns, or all of them when the order
    was voided)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    earning = models.ForeignKey(OrderEarning, on_delete=models.CASCADE, related_name="lines")
    line_item = models.OneToOneField(
        LineItem, on_delete=models.PROTECT, related_name="loyalty_earning"
    )
    quantity = models.PositiveIntegerField()
    points = models.PositiveIntegerField()
    returned_quantity = models.PositiveIntegerField(default=0)
    clawed_back = models.PositiveIntegerField(default=0)
    # The return items already counted: an item is taken back once.
    return_item_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Points a return could not take because they were spent (the write-off policy).
    written_off = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=models.F("quantity")),
                name="loyalty_line_returned_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(clawed_back__lte=models.F("points")),
                name="loyalty_line_clawed_back_within_points",
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.line_item_id}: {self.points} points"
