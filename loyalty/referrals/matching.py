"""Who is the same person: emails, phones, addresses and names reduced to the form in which two
spellings of one thing compare equal, and the device fingerprint of a referral page's visitor.

Nothing here is stored as typed: fingerprints are keyed hashes (HMAC with the site's secret), so
a leaked table says nothing of the addresses or devices behind it."""

import hashlib
import hmac
import ipaddress
import re
import unicodedata

from django.conf import settings

from orders.services.customers import phone_to_e164

# Mailboxes that ignore dots in the local part (a.b@gmail.com is ab@gmail.com).
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
# Words an address is written with in full or short; both become the short form.
_ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "strasse": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "lane": "ln",
    "drive": "dr",
    "apartment": "apt",
    "flat": "apt",
    "unit": "apt",
    "floor": "fl",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}


def email_normalised(email: str) -> str:
    """Lower-case, without a `+tag`, and without dots for the mailboxes that ignore them."""
    email = email.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return email
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        domain = _DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def phone_normalised(phone: str, *, region: str | None = None) -> str:
    """E.164, or "" when it is no valid number."""
    return phone_to_e164(phone, default_region=region)


def _plain(text: str) -> str:
    """Case-folded, accents off (ß is ss), punctuation as spaces."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return re.sub(r"[^0-9a-z]+", " ", folded).strip()


def address_normalised(
    *, address1: str, address2: str = "", postcode: str = "", country: str = ""
) -> str:
    """One string per place: "12 Main Street, Apt 3" and "12 main st apt. 3" are the same. The
    city is left out (its spellings vary most; the postcode says it); "" when there is no
    street."""
    street = _plain(f"{address1} {address2}")
    if not street:
        return ""
    words = [_ADDRESS_WORDS.get(word, word) for word in street.split()]
    # "Hauptstr. 5" and "Hauptstrasse 5": a street name ending in str/strasse is one word.
    words = [re.sub(r"(strasse|str)$", "st", word) if len(word) > 6 else word for word in words]
    return " ".join([*words, _plain(postcode).replace(" ", ""), country.strip().lower()])


def name_normalised(name: str) -> str:
    """A name with its parts in order, whatever the case, accents or punctuation; "" for a name
    of one letter or none (too little to say it is the same person)."""
    plain = _plain(name)
    return " ".join(sorted(plain.split())) if len(plain.replace(" ", "")) > 1 else ""


def keyed_hash(value: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def address_fingerprint(**address: str) -> str:
    normalised = address_normalised(**address)
    return keyed_hash(f"address:{normalised}") if normalised else ""


def device_fingerprint(*, user_agent: str, accept_language: str, ip: str) -> str:
    """The visitor's browser and network: user agent, languages and the IPv4 /24 (IPv6 /48),
    hashed. Enough to see one device behind several sign-ups; too coarse to follow anyone."""
    try:
        address = ipaddress.ip_address(ip.split("/")[0])
        prefix = 24 if address.version == 4 else 48
        network = str(ipaddress.ip_network((address, prefix), strict=False))
    except ValueError:
        network = ""
    return keyed_hash(f"device:{user_agent.strip()}|{accept_language.strip()}|{network}")
