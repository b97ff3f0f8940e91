"""The shop's look on the customer's pages: its colour, a readable text colour on it, and the
stylesheet that sets both. (Pages carry no style attribute, which their Content-Security-Policy
forbids; they link `brand_stylesheet` for their shop's colour instead.)"""

import re
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from orders.models import Shop

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOUR = "#1a56db"
# A colour names its stylesheet, so the stylesheet never changes: cached for a year.
STYLESHEET_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Brand:
    colour: str
    text: str

    @property
    def key(self) -> str:
        """The colour as its stylesheet's name: `1a56db`."""
        return self.colour.removeprefix("#").lower()


def brand_for_colour(colour: str) -> Brand:
    """The colour is checked again here because it lands in a stylesheet, whatever wrote it to
    the database; anything but `#rrggbb` gets the default."""
    colour = (colour if _HEX_COLOUR.match(colour or "") else "") or DEFAULT_COLOUR
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    # Perceived brightness (ITU-R BT.601 weights): dark text on light colours, white otherwise.
    is_light = (red * 299 + green * 587 + blue * 114) / 1000 > 150
    return Brand(colour=colour.lower(), text="#111827" if is_light else "#ffffff")


def shop_brand(shop: Shop) -> Brand:
    return brand_for_colour(shop.primary_colour)


@require_GET
def brand_stylesheet(request: HttpRequest, key: str) -> HttpResponse:
    """`--brand` and `--on-brand` for one colour (`key`, six lowercase hex digits, checked by
    the URL). Made from the URL alone: no query, the same for every shop of that colour."""
    brand = brand_for_colour(f"#{key}")
    css = f":root {{ --brand: {brand.colour}; --on-brand: {brand.text}; }}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    patch_cache_control(response, public=True, max_age=STYLESHEET_MAX_AGE, immutable=True)
    return response
