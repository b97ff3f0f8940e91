"""The headers of every page a customer reaches by a link in a message or by the order lookup,
whichever app serves it: tracking, problem reports, the returns portal, message preferences.
Their layout is `templates/shell/customer.html`.

Each such page is about someone (their order, return or preferences) and is reached by an
unguessable token or a lookup, so:
- no shared cache keeps it (`private`), and the browser keeps nothing either (`no-store`: a
  form carries a CSRF token), except a page served with a validator, the tracking page with its
  ETag, which the browser may keep but must check before reusing (`no-cache`);
- no search engine lists it or follows its links (`X-Robots-Tag`, and the layout's robots tag);
- no other site learns its address: `no-referrer`, or `same-origin` on a page that posts a
  form (under no-referrer browsers POST with `Origin: null`, which the CSRF check refuses;
  same-origin still tells other sites nothing). The layout's referrer tag says the same;
- it says which language it speaks (the customer's, or the visitor's).
No other site may frame it, and it runs only our own scripts and styles: the
Content-Security-Policy (`frame-ancestors 'none'`), X-Frame-Options and the Permissions-Policy
come from the project's middleware (django-csp's settings, `postpurchase.security`), and no
customer page opts out of them.
"""

from django.http import HttpResponseBase
from django.utils.cache import patch_cache_control

ROBOTS = "noindex, nofollow"
REFERRER_POLICY = "no-referrer"
REFERRER_POLICY_WITH_FORM = "same-origin"


def customer_page_headers(
    response: HttpResponseBase,
    *,
    language: str,
    posts_form: bool = False,
    revalidate: bool = False,
) -> HttpResponseBase:
    """Give `response` the headers every customer page sends; returns it.

    `posts_form`: the page holds a form that posts back (its referrer policy must allow it).
    `revalidate`: the response carries a validator (an ETag) and may be kept by the browser,
    which must ask before reusing it."""
    if revalidate:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = ROBOTS
    response["Referrer-Policy"] = REFERRER_POLICY_WITH_FORM if posts_form else REFERRER_POLICY
    response["Content-Language"] = language
    return response
