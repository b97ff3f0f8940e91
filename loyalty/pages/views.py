"""The customer's loyalty page, reached by the signed token in their messages (no login):

- `/loyalty/<token>/` — the balance, points pending and when they confirm, the history in plain
  words, the tier and the way to the next one, the rewards with a one-click redeem, the codes to
  use, the points about to expire and the referral link. The member row is made on the first
  visit, so a customer who never earned sees a zero balance.
- `/loyalty/<token>/redeem/` — the redeem button's POST: spends the points on a code and
  redirects to the page, which shows the code; "not enough points" changes nothing.

A page with nothing changed since it was rendered comes from Redis (`loyalty.pages.cache`) with no
database query: the token is checked by its signature alone, and what each request gets its own
of (the redeem forms' one-time key) is filled in as it is served.

A bad, tampered or expired (365 days) token, a shop without an active programme, or a customer
whose data was erased gets the same "this link does not work" page with a 404: nothing tells
which it was."""

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from loyalty.ledger import NotEnoughPoints, member_for
from loyalty.models import Member, Programme, Redemption, Reward
from loyalty.pages import cache as page_cache
from loyalty.pages import selectors
from loyalty.pages.words import history_line, points_plain
from loyalty.tokens import customer_id_from_loyalty_token
from orders.branding import shop_brand
from orders.models import Customer
from postpurchase.exceptions import DomainError
from postpurchase.security import link_post
from postpurchase.shell.customer import CustomerLocale, customer_locale, customer_page_headers

# The redeem form's one-time key: a uuid4's hex, drawn when the page is rendered, so a double
# click or a resent form redeems once.
_FORM_KEY = re.compile(r"^[0-9a-f]{32}$")
_PAGE_NUMBER = re.compile(r"^[1-9][0-9]{0,3}$")


def loyalty_link_not_found(request: HttpRequest) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = render(
            request, "loyalty/pages/not_found.html", {"language": language}, status=404
        )
    customer_page_headers(response, language=language)
    return response


def _membership(customer_id: int | None) -> tuple[Customer, Programme] | None:
    if customer_id is None:
        return None
    customer = selectors.customer_for_page(customer_id)
    if customer is None:
        return None
    programme = selectors.programme_for_customer(customer)
    if programme is None:
        return None
    return customer, programme


def _cacheable_page(request: HttpRequest) -> int | None:
    """The history page a request asks for when the answer may come from the cache: nothing
    but `?page=N` in its address (a just redeemed code, or anything else, is rendered)."""
    if not request.GET:
        return 1
    raw = request.GET.getlist("page")
    if len(request.GET) != 1 or len(raw) != 1 or not _PAGE_NUMBER.match(raw[0]):
        return None
    return int(raw[0])


@dataclass(frozen=True)
class _Rendered:
    # The page with the cache's placeholders where each request gets its own value.
    body: str
    # What the page read at `now` that the clock alone can change (`page_changes_at`).
    now: datetime
    codes: list[Redemption]
    tier: selectors.TierProgress | None


def _render(
    request: HttpRequest,
    *,
    customer: Customer,
    programme: Programme,
    member: Member,
    locale: CustomerLocale,
    page: int | str | None,
    **extra: object,
) -> _Rendered:
    now = timezone.now()
    shop = programme.shop
    history = selectors.history_page(member, page)
    share = selectors.referral_share(
        selectors.member_referral_url(member),
        subject=_("A gift from %(shop)s") % {"shop": shop.name},
        message=_("I shop at %(shop)s and thought you would like it. Here is a welcome gift:")
        % {"shop": shop.name},
    )
    codes = selectors.codes_issued(customer, now)
    tier = selectors.tier_progress(member, programme, now)
    # Stand-ins for what each request gets its own of; nobody can guess them into a page.
    marker = secrets.token_hex(16)
    context = {
        "shop": shop,
        "brand": shop_brand(shop),
        "language": locale.language,
        "programme": programme,
        "member": member,
        "token": f"{marker}t",
        "form_key": f"{marker}k",
        "spendable": points_plain(member.spendable),
        "pending": selectors.pending_orders(member),
        "history": history,
        "history_lines": [history_line(entry) for entry in history.object_list],
        "tier": tier,
        "rewards": selectors.rewards_offered(member),
        "codes": codes,
        "expiring": selectors.points_expiring(member, now),
        "share": share,
        **extra,
    }
    html = render_to_string("loyalty/pages/page.html", context, request)
    body = html.replace(f"{marker}k", page_cache.KEY_SLOT).replace(
        f"{marker}t", page_cache.TOKEN_SLOT
    )
    return _Rendered(body=body, now=now, codes=codes, tier=tier)


def _served(
    request: HttpRequest, body: str, *, token: str, language: str, status: int = 200
) -> HttpResponseBase:
    """The page as this request gets it: a fresh one-time key for the redeem forms and its
    token in the forms' address. No CSRF cookie: the token in the address authorises the
    redeem POST (`link_post`)."""
    html = page_cache.page_fill(body, form_key=uuid.uuid4().hex, token=escape(token))
    response = HttpResponse(html, status=status)
    return customer_page_headers(response, language=language, posts_form=True)


@require_http_methods(["GET", "HEAD"])
def loyalty_page(request: HttpRequest, token: str) -> HttpResponseBase:
    customer_id = customer_id_from_loyalty_token(token)
    page = _cacheable_page(request)
    if customer_id is not None and page is not None:
        cached = page_cache.page_cached(customer_id, page)
        if cached is not None:
            language, body = cached
            return _served(request, body, token=token, language=language)
    found = _membership(customer_id)
    if found is None:
        return loyalty_link_not_found(request)
    customer, programme = found
    member = member_for(customer)
    locale = customer_locale(customer=customer, shop=programme.shop)
    versions = None
    if page is not None:
        versions = page_cache.page_versions(
            customer_id=customer.pk, member_id=member.pk, shop_id=member.shop_id
        )
    with locale.active():
        redeemed = None
        if (raw := request.GET.get("redeemed", "")).isdigit():
            redeemed = selectors.redeemed_for(customer, int(raw))
        rendered = _render(
            request,
            customer=customer,
            programme=programme,
            member=member,
            locale=locale,
            page=request.GET.get("page"),
            redeemed=redeemed,
        )
        if versions is not None and page is not None:
            # In the customer's zone: their midnight is when "today" turns.
            changes_at = selectors.page_changes_at(
                member, programme, rendered.now, codes=rendered.codes, tier=rendered.tier
            )
            page_cache.page_store(
                customer_id=customer.pk,
                member_id=member.pk,
                shop_id=member.shop_id,
                language=locale.language,
                page=page,
                versions=versions,
                body=rendered.body,
                seconds=int((changes_at - timezone.now()).total_seconds()),
            )
    return _served(request, rendered.body, token=token, language=locale.language)


@link_post
@require_POST
def loyalty_redeem(request: HttpRequest, token: str) -> HttpResponseBase:
    # The rewards part's service; imported here so the page needs nothing of it to show.
    from loyalty.rewards.redemption import reward_redeem

    found = _membership(customer_id_from_loyalty_token(token))
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
        rendered = _render(
            request,
            customer=customer,
            programme=programme,
            member=member,
            locale=locale,
            page=None,
            problem=problem,
        )
    return _served(request, rendered.body, token=token, language=locale.language, status=409)
