"""Sign-in throttling for staff and ops, on django-axes.

axes counts failed sign-ins per lockout rule (`AXES_LOCKOUT_PARAMETERS`: an account from one
address, and an address on any account) but compares them all with one limit. Guessing one
account's password and trying a few passwords on many accounts deserve different limits, so
`SignInThrottle` gives each rule its own (`SIGNIN_LOCKOUT_LIMITS`) and tells axes how close the
nearest rule is to locking, in the units of `AXES_FAILURE_LIMIT`.
"""

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


class SignInThrottle(AxesDatabaseHandler):
    """axes' database handler with a limit per lockout rule."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """`AXES_FAILURE_LIMIT` (locked) once any rule has reached its own limit; before that,
        the limit less the failures the nearest rule still allows."""
        limits = settings.SIGNIN_LOCKOUT_LIMITS
        counts = [
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        left = min(limit - count for limit, count in zip(limits, counts, strict=True))
        return max(0, settings.AXES_FAILURE_LIMIT - max(0, left))

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """A successful sign-in forgives that account's failures from that address only: the
        address's failures on other accounts still count."""
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            # Set by django-axes on each request it handles; no stub declares it.
            ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        ).delete()
        return count


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """Our page for a locked sign-in (429): when to try again, and how to be unlocked."""
    cool_off: timedelta = get_cool_off(request) or timedelta(0)
    started = getattr(request, "axes_attempt_time", None) or timezone.now()
    seconds = max(1, int(cool_off.total_seconds()))
    response = render(
        request,
        "registration/locked_out.html",
        {
            "minutes": max(1, math.ceil(seconds / 60)),
            "retry_at": started + cool_off,
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
