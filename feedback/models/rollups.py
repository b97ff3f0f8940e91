"""A shop's feedback counted per day, so the numbers page reads a year in a few hundred rows
instead of scanning a million answers (`feedback.numbers`)."""

from django.db import models
from django.utils import timezone

from orders.models import Shop


class FeedbackDayRollup(models.Model):
    """One shop's feedback on one day (in the shop's time zone), as named counts in `counts`
    (the keys are listed in `feedback.numbers.rollups`). Rebuilt from the source tables by
    upsert on (shop, day): recomputing a day twice leaves the same row."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    counts = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "day"], name="uniq_feedbackrollup_shop_day")
        ]

    def __str__(self) -> str:
        return f"Feedback of shop {self.shop_id} on {self.day}"
