"""The customer's loyalty page, reached by the signed token in their messages (no login):

- `/loyalty/<token>/` — the balance, points pending and when they confirm, the history in plain
  words, the tier and the way to the next one, the rewards with a one-click redeem, the codes to
  use, the points about to expire and the referral link. The member row is made on the first
  visit, so a customer who never earned sees a zero balance.
- `/loyalty/<token>/redeem/` — the redeem button's POST: spends the points on a code and
  redirects to the page, which shows the code; "not enough points" changes nothing.

A bad, tampered or expired (365 days) token, a shop without an active programme, or a customer
whose data was erased gets the same "this link does not work" page with a 404: nothing tells
which it was."""

import re
import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from loyalty.ledger import NotEnoughPoints, member_for
from loyalty.models import Member, Programme, Reward
from loyalty.pages import selectors
from loyalty.pages.words import history_line, points_plain
from loyalty.tokens import customer_id_from_loyalty_token
from orders.branding import shop_brand
from orders.models import Customer
from postpurchase.exceptions import DomainError
from postpurchase.shell.customer import CustomerLocale, customer_locale, customer_page_headers

# The redeem form's one-time key: a uuid4's hex, drawn when the page is rendered, so a double
# click or a resent form redeems once.
_FORM_KEY = re.compile(r"^[0-9a-f]{32}$")


def loyalty_link_not_found(request: HttpRequest) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = render(
            request, "loyalty/pages/not_found.html", {"language": language}, status=404
        )
    customer_page_headers(response, language=language)
    return response


def _membership(token: str) -> tuple[Customer, Programme] | None:
    customer_id = customer_id_from_loyalty_token(token)
    if customer_id is None:
        return None
    customer = selectors.customer_for_page(customer_id)
    if customer is None:
        return None
    programme = selectors.programme_for_customer(customer)
    if programme is None:
        return None
    return customer, programme


def _render(
    request: HttpRequest,
    *,
    token: str,
    customer: Customer,
    programme: Programme,
    member: Member,
    locale: CustomerLocale,
    status: int = 200,
    **extra: object,
) -> HttpResponse:
    now = timezone.now()
    shop = programme.shop
    history = selectors.history_page(member, request.GET.get("page"))
    share = selectors.referral_share(
        selectors.member_referral_url(member),
        subject=_("A gift from %(shop)s") % {"shop": shop.name},
        message=_("I shop at %(shop)s and thought you would like it. Here is a welcome gift:")
        % {"shop": shop.name},
    )
    context = {
        "shop": shop,
        "brand": shop_brand(shop),
        "language": locale.language,
        "programme": programme,
        "member": member,
        "token": token,
        "spendable": points_plain(member.spendable),
        "pending": selectors.pending_orders(member),
        "history": history,
        "history_lines": [history_line(entry) for entry in history.object_list],
        "tier": selectors.tier_progress(member, programme, now),
        "rewards": selectors.rewards_offered(member),
        "codes": selectors.codes_issued(customer, now),
        "expiring": selectors.points_expiring(member, now),
        "share": share,
        "form_key": uuid.uuid4().hex,
        **extra,
    }
    return render(request, "loyalty/pages/page.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def loyalty_page(request: HttpRequest, token: str) -> HttpResponseBase:
    found = _membership(token)
    if found is None:
        return loyalty_link_not_found(request)
    customer, programme = found
    member = member_for(customer)
    locale = customer_locale(customer=customer, shop=programme.shop)
    with locale.active():
        redeemed = None
        if (raw := request.GET.get("redeemed", "")).isdigit():
            redeemed = selectors.redeemed_for(customer, int(raw))
        response = _render(
            request,
            token=token,
            customer=customer,
            programme=programme,
            member=member,
            locale=locale,
            redeemed=redeemed,
        )
    return customer_page_headers(response, language=locale.language, posts_form=True)


@require_POST
def loyalty_redeem(request: HttpRequest, token: str) -> HttpResponseBase:
    # The rewards part's service; imported here so the page needs nothing of it to show.
    from loyalty.rewards.redemption import reward_redeem

    found = _membership(token)
    if found is None:
        return loyalty_link_not_found(request)
    customer, programme = found
    member = member_for(customer)
    locale = customer_locale(customer=customer, shop=programme.shop)
    with locale.active():
        reward_id, form_key = request.POST.get("reward", ""), request.POST.get("key", "")
        reward = None
        if reward_id.isdigit() and _FORM_KEY.match(form_key):
            reward = Reward.objects.filter(
                pk=int(reward_id), shop_id=member.shop_id, is_active=True
            ).first()
        if reward is None:
            problem = _("This reward is no longer available. Please choose another.")
        else:
            key = f"page:{member.pk}:{reward.pk}:{form_key}"
            try:
                redemption = reward_redeem(member=member, reward=reward, key=key)
            except NotEnoughPoints as refusal:
                problem = _(
                    "Not enough points for %(reward)s: it takes %(price)s points and you have "
                    "%(spendable)s."
                ) % {
                    "reward": reward.name,
                    "price": points_plain(reward.points_price),
                    "spendable": points_plain(refusal.spendable),
                }
            except DomainError:
                problem = _("This reward could not be redeemed. Please try again later.")
            else:
                url = reverse("loyalty:page", args=[token])
                redirect = HttpResponseRedirect(f"{url}?redeemed={redemption.pk}#redeemed")
                redirect.status_code = 303
                return customer_page_headers(redirect, language=locale.language)
        member.refresh_from_db()
        response = _render(
            request,
            token=token,
            customer=customer,
            programme=programme,
            member=member,
            locale=locale,
            status=409,
            problem=problem,
        )
    return customer_page_headers(response, language=locale.language, posts_form=True)
