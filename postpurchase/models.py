from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class DomainEvent(models.Model):
    """A published domain event: written in the publisher's transaction (an outbox), delivered
    to each subscriber by Celery after commit, and re-delivered by beat if a task was lost
    (`postpurchase.events`)."""

    # A foreign key to the shop named through settings (as Django names the user model), not
    # a plain id: the kernel imports no app, yet the database still refuses an event of a shop
    # that does not exist and deleting a shop still deletes its events, as before the move.
    shop = models.ForeignKey(settings.TENANT_MODEL, on_delete=models.CASCADE, related_name="+")
    # A name some app declared on the bus. No choices: the names belong to the apps that
    # publish them, and declaring a new event needs no migration here.
    name = models.CharField(max_length=48)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(auto_now_add=True)
    # Subscribers that have handled this event; the rest are still owed it.
    delivered_to = models.JSONField(default=list, blank=True)
    is_fully_delivered = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(
                fields=["occurred_at"],
                condition=models.Q(is_fully_delivered=False),
                name="domainevent_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.payload}"
