"""The referral link's public page, `/loyalty/r/<code>/`: what the shop offers a new customer
and a form for their email (and phone). Posting it records the referral and redirects to the
welcome page, which shows the friend's introductory code. Plain HTML: it works without
JavaScript, at 360 px. Rate limited per visitor's address; the device's fingerprint is kept only
as a keyed hash."""

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from loyalty.models import (
    Member,
    Programme,
    Redemption,
    Referral,
    Reward,
    RewardKind,
)
from loyalty.referrals.forms import ReferralSignupForm
from loyalty.referrals.matching import device_fingerprint
from loyalty.referrals.services import referral_invite
from orders.branding import shop_brand
from orders.tracking.lookup import client_address
from orders.tracking.ratelimit import RateLimit
from postpurchase.exceptions import DomainError
from postpurchase.shell.customer import customer_locale, customer_page_headers

# A friend signs up once or twice; a script farming codes hits the limit.
SIGNUP_LIMIT_PER_ADDRESS = RateLimit("loyalty-referral", limit=10, window=60 * 60)
_WELCOME_SALT = "loyalty.referral.welcome"
_WELCOME_MAX_AGE = 7 * 24 * 3600


class LinkNotFound(Exception):
    """The link's code, or the welcome's token, opens nothing."""


def referral_link_not_found(request: HttpRequest) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = render(
            request, "loyalty/referrals/not_found.html", {"language": language}, status=404
        )
    customer_page_headers(response, language=language)
    return response


def _member_for_code(code: str) -> Member:
    """The member whose link this is, in a shop running a programme; 404 otherwise (a code is
    unique per shop: the same code in two shops is ambiguous and opens nothing)."""
    members = list(
        Member.objects.select_related("shop", "customer").filter(
            referral_code=code.upper(),
            shop__is_active=True,
            shop__loyalty_programme__is_active=True,
        )[:2]
    )
    if len(members) != 1:
        raise LinkNotFound(code)
    return members[0]


def welcome_token(referral_id: int) -> str:
    """The signed key to a referral's welcome page (shown to whoever gave the email, a week)."""
    return signing.dumps(referral_id, salt=_WELCOME_SALT)


def offer_words(reward: Reward | None, currency: str) -> str:
    """What the friend gets, in a few words."""
    if reward is None:
        return ""
    if reward.kind == RewardKind.PERCENT_OFF:
        percent = format(reward.value.normalize(), "f")  # 15, 12.5, 100: never 1E+2
        return _("%(percent)s%% off your first order") % {"percent": percent}
    if reward.kind == RewardKind.AMOUNT_OFF:
        return _("%(amount)s %(currency)s off your first order") % {
            "amount": reward.value,
            "currency": currency,
        }
    if reward.kind == RewardKind.FREE_SHIPPING:
        return _("Free shipping on your first order")
    return _("A free %(product)s with your first order") % {
        "product": reward.product.title if reward.product else reward.name
    }


def _limited(request: HttpRequest, member: Member, language: str) -> HttpResponse | None:
    verdict = SIGNUP_LIMIT_PER_ADDRESS.hit(client_address(request))
    if verdict.allowed:
        return None
    context = {
        "shop": member.shop,
        "language": language,
        "limited_minutes": verdict.retry_after_minutes,
    }
    response = render(request, "loyalty/referrals/limited.html", context, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def referral_page(request: HttpRequest, code: str) -> HttpResponseBase:
    try:
        member = _member_for_code(code)
    except LinkNotFound:
        return referral_link_not_found(request)
    shop = member.shop
    programme = Programme.objects.select_related("referral_friend_reward__product").get(shop=shop)
    # The friend is nobody the shop knows yet: the page speaks the shop's language.
    locale = customer_locale(customer=None, shop=shop)
    language = locale.language
    with locale.active():
        form = ReferralSignupForm(
            request.POST if request.method == "POST" else None, region=shop.phone_region
        )
        if request.method == "POST":
            if limited := _limited(request, member, language):
                return customer_page_headers(limited, language=language)
            if form.is_valid():
                device = device_fingerprint(
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    accept_language=request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
                    ip=client_address(request),
                )
                try:
                    invitation = referral_invite(
                        member_id=member.pk,
                        email=form.cleaned_data["email"],
                        phone=form.cleaned_data["phone"],
                        device=device,
                    )
                except DomainError:
                    return referral_link_not_found(request)
                token = welcome_token(invitation.referral.pk)
                redirect = HttpResponseRedirect(
                    reverse("loyalty_referrals:welcome", args=[member.referral_code, token])
                )
                redirect.status_code = 303
                return customer_page_headers(redirect, language=language, posts_form=True)
        context = {
            "shop": shop,
            "brand": shop_brand(shop),
            "language": language,
            "code": member.referral_code,
            "referrer_name": member.customer.first_name,
            "offer": offer_words(programme.referral_friend_reward, shop.currency),
            "form": form,
        }
        response = render(request, "loyalty/referrals/page.html", context)
        if request.method == "POST":
            response.status_code = 400
    return customer_page_headers(response, language=language, posts_form=True)


@require_http_methods(["GET", "HEAD"])
def referral_welcome(request: HttpRequest, code: str, token: str) -> HttpResponseBase:
    try:
        member = _member_for_code(code)
        referral_id = signing.loads(token, salt=_WELCOME_SALT, max_age=_WELCOME_MAX_AGE)
    except (LinkNotFound, signing.BadSignature):
        return referral_link_not_found(request)
    referral = Referral.objects.filter(pk=referral_id, referrer=member).first()
    if referral is None:
        return referral_link_not_found(request)
    redemption = Redemption.objects.filter(
        shop_id=referral.shop_id, idempotency_key=f"referral_intro:{referral.pk}"
    ).first()
    locale = customer_locale(customer=referral.friend, shop=member.shop)
    language = locale.language
    with locale.active():
        context = {
            "shop": member.shop,
            "brand": shop_brand(member.shop),
            "language": language,
            "redemption": redemption,
            "is_refused": referral.is_refused,
            "offer": offer_words(redemption.reward if redemption else None, member.shop.currency),
        }
        response = render(request, "loyalty/referrals/welcome.html", context)
    return customer_page_headers(response, language=language)
