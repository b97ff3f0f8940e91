"""The shop's look on the customer's pages: its colour, and a readable text colour on it."""

import re
from dataclasses import dataclass

from orders.models import Shop

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOUR = "#1a56db"


@dataclass(frozen=True)
class Brand:
    colour: str
    text: str


def shop_brand(shop: Shop) -> Brand:
    """The colour is checked again here because it lands in a style attribute, whatever wrote
    it to the database."""
    colour = shop.primary_colour if _HEX_COLOUR.match(shop.primary_colour or "") else ""
    colour = colour or DEFAULT_COLOUR
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    # Perceived brightness (ITU-R BT.601 weights): dark text on light colours, white otherwise.
    is_light = (red * 299 + green * 587 + blue * 114) / 1000 > 150
    return Brand(colour=colour, text="#111827" if is_light else "#ffffff")
