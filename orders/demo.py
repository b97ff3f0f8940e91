"""The demo shop "Northwind Goods" with two years of believable history.

Everything derives from one seed and one reference "now" (today, midnight UTC), so two runs on the
same day give the same shop. Rows are written with `bulk_create` and carry their own timestamps,
and no domain event is published: this history must never trigger a message.
"""

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import models, transaction

from orders.models import (
    SHIPMENT_TRANSITIONS,
    CarrierAccount,
    Channel,
    Consent,
    ConsentStatus,
    Customer,
    FinancialStatus,
    LineItem,
    Order,
    OrderEvent,
    OrderSource,
    OrderStatus,
    Product,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    Shop,
    StaffMembership,
    StaffRole,
    TrackingEvent,
    TrackingStatus,
    Variant,
    WebhookProvider,
)
from orders.services.api_keys import api_key_create
from orders.services.data import TrackingEventData
from postpurchase.states import can_transition

DEFAULT_SEED = 2024
DEFAULT_PASSWORD = "demo-password"  # noqa: S105 - the documented demo login
SHOP_SLUG = "demo"
SHOP_DOMAIN = "demo-shop.myshopify.com"
STAFF_USERNAME = "demo"
ADMIN_USERNAME = "admin"
CUSTOMERS_AT_SCALE_1 = 2000
HISTORY = timedelta(days=730)
BATCH = 1000
CENT = Decimal("0.01")
ORIGIN = "Columbus, OH"
STOREFRONT = "https://northwind-goods.example"  # .example never resolves: no external host

# --- Catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductSpec:
    category: str
    title: str
    price: str
    days_of_use: int | None
    guide: str
    # Variant titles; "Title=12.00" gives a variant its own price.
    variants: tuple[str, ...] = ("Default Title",)


_C = ProductSpec
# fmt: off
CATALOG: tuple[ProductSpec, ...] = (
    # Coffee and tea: the shop's replenishment backbone.
    _C("COF", "House Blend Coffee, 12 oz", "16.00", 30,
       "Store beans airtight, away from light. Grind just before brewing: 15 g per 250 ml.",
       ("Whole bean", "Ground")),
    _C("COF", "Ethiopia Yirgacheffe Coffee, 12 oz", "19.50", 30,
       "Best 7-30 days after roast. Try a pour-over at 94 °C to bring out the citrus notes.",
       ("Whole bean", "Ground")),
    _C("COF", "Swiss Water Decaf Coffee, 12 oz", "17.00", 30,
       "Keep sealed after opening. Brews like regular coffee; use a slightly finer grind.",
       ("Whole bean", "Ground")),
    _C("COF", "Cold Brew Packs, 6 pack", "14.00", 21,
       "Steep one pack in 1 litre of cold water for 14-18 hours, then refrigerate up to a week."),
    _C("COF", "Earl Grey Loose Leaf Tea, 4 oz", "12.00", 45,
       "Use 1 teaspoon per cup, water just off the boil, steep 3-4 minutes. Keep in the tin."),
    _C("COF", "Masala Chai Blend, 4 oz", "12.50", 45,
       "Simmer 2 teaspoons in half water, half milk for 5 minutes; sweeten to taste."),
    _C("COF", "Ceramic Pour-Over Dripper", "28.00", None,
       "Rinse the paper filter first. Dishwasher safe; avoid sudden temperature shocks."),
    _C("COF", "Gooseneck Kettle", "64.00", None,
       "Descale monthly with equal parts water and white vinegar. Do not immerse the base.",
       ("Matte black", "Brushed steel")),
    _C("COF", "Burr Coffee Grinder", "129.00", None,
       "Brush the burrs weekly and run a cleaning tablet through monthly. Never wash with water."),
    _C("COF", "Stoneware Mug, 12 oz", "18.00", None,
       "Dishwasher and microwave safe. Glazes are lead-free and kiln-fired twice.",
       ("Oat", "Slate", "Moss")),
    _C("COF", "French Press, 34 oz", "39.00", None,
       "Coarse grind, 4 minutes, then press slowly. Unscrew the mesh to clean it thoroughly."),
    _C("COF", "Glass Teapot with Infuser", "32.00", None,
       "Hand-wash the infuser; the borosilicate pot can go on a gentle heat with a diffuser."),
    _C("COF", "Insulated Travel Mug", "26.00", None,
       "Hand-wash only to protect the vacuum seal. Keeps drinks hot for 6 hours.",
       ("Black", "Sand", "Ocean")),
    # Bath and body.
    _C("BTH", "Rosemary Mint Shampoo, 16 oz", "18.00", 45,
       "Massage a coin-sized amount into wet hair, rinse. Sulfate-free and colour safe."),
    _C("BTH", "Argan Oil Conditioner, 16 oz", "18.00", 45,
       "Apply from mid-length to ends, leave 2 minutes, rinse with cool water."),
    _C("BTH", "Oat Milk Body Wash, 16 oz", "15.00", 40,
       "Lather with a cloth or sponge; gentle enough for daily use on sensitive skin.",
       ("Unscented", "Lavender", "Cedar")),
    _C("BTH", "Olive Oil Hand Soap, 12 oz", "9.50", 30,
       "Two pumps per wash. Refill the glass bottle from our refill pouches to cut plastic.",
       ("Unscented", "Citrus", "Eucalyptus")),
    _C("BTH", "Daily Face Moisturizer SPF 30", "28.00", 60,
       "Apply every morning as the last step of your routine; reapply after swimming."),
    _C("BTH", "Waffle Bath Towel", "36.00", None,
       "Wash warm before first use; tumble dry low. Skip fabric softener to keep it absorbent.",
       ("White", "Sage", "Clay")),
    _C("BTH", "Linen Bathrobe", "98.00", None,
       "Machine wash cold, line dry. Linen softens with every wash.",
       ("S/M", "L/XL")),
    _C("BTH", "Beechwood Hair Brush", "22.00", None,
       "Remove hair after use and wipe the pad with a damp cloth; keep the wood dry."),
    # Wellness.
    _C("WEL", "Daily Multivitamin, 60 capsules", "24.00", 60,
       "Take one capsule twice a day with food. Store below 25 °C, out of reach of children."),
    _C("WEL", "Omega-3 Fish Oil, 60 softgels", "22.00", 60,
       "Take one softgel twice daily with meals. Refrigerate after opening for freshness."),
    _C("WEL", "Magnesium Glycinate, 90 capsules", "21.00", 90,
       "Take one capsule in the evening. Ask your doctor if you take other medication."),
    _C("WEL", "Plant Protein Powder, 2 lb", "39.00", 30,
       "Blend one scoop (30 g) with 300 ml of water or milk. Use within 60 days of opening.",
       ("Vanilla", "Chocolate")),
    _C("WEL", "Yoga Mat, 5 mm", "68.00", None,
       "Wipe with a damp cloth after practice; air dry away from direct sun.",
       ("Charcoal", "Dusty rose")),
    _C("WEL", "Cork Yoga Block", "18.00", None,
       "Wipe clean with water; cork is naturally antimicrobial. Avoid soaking."),
    # Home.
    _C("HOM", "Unscented Laundry Detergent, 64 loads", "19.00", 60,
       "One cap fill per load, double for heavily soiled washes. Safe for HE machines."),
    _C("HOM", "Soy Wax Candle, 8 oz", "24.00", 45,
       "Burn 2-3 hours the first time so the wax melts edge to edge; trim the wick to 5 mm.",
       ("Fig", "Sea salt", "Pine")),
    _C("HOM", "Linen Duvet Cover", "189.00", None,
       "Wash cold on a gentle cycle, tumble dry low and remove promptly to limit creases.",
       ("Queen=189.00", "King=219.00")),
    _C("HOM", "Wool Throw Blanket", "129.00", None,
       "Air it out between uses; spot clean or dry clean. Store folded with cedar.",
       ("Oatmeal", "Charcoal")),
    _C("HOM", "Ceramic Aroma Diffuser", "48.00", None,
       "Empty and wipe dry after each use; clean with diluted vinegar weekly."),
    _C("HOM", "Cotton Rope Basket", "34.00", None,
       "Shake out dust and spot clean with mild soap; reshape while damp."),
    _C("HOM", "Linen Napkins, set of 4", "29.00", None,
       "Machine wash warm, hang dry, and iron while slightly damp for crisp edges.",
       ("Natural", "Indigo")),
    _C("HOM", "Down-Alternative Pillow", "59.00", None,
       "Fluff daily. Machine wash gentle in a front loader, dry low with dryer balls.",
       ("Standard=59.00", "King=69.00")),
    _C("HOM", "Stoneware Planter, 6 in", "38.00", None,
       "Use the drainage saucer; wipe clean. Not frost proof: bring inside in winter."),
    # Kitchen.
    _C("KIT", "Cast Iron Skillet, 10 in", "45.00", None,
       "Rinse hot, dry on the stove and wipe with a thin film of oil. No dishwasher."),
    _C("KIT", "Chef's Knife, 8 in", "89.00", None,
       "Hand-wash and dry at once. Hone weekly, sharpen on a whetstone twice a year."),
    _C("KIT", "Walnut Cutting Board", "65.00", None,
       "Hand-wash, stand upright to dry, and oil with food-safe mineral oil monthly."),
    _C("KIT", "Enameled Dutch Oven, 5 qt", "149.00", None,
       "Heat gradually; use wooden or silicone tools. Soak, never scour, the enamel.",
       ("Cream", "Cobalt", "Forest")),
    _C("KIT", "Glass Food Storage Set", "42.00", None,
       "Glass is oven safe to 230 °C without lids; lids go on the top rack of the dishwasher."),
    _C("KIT", "Linen Apron", "34.00", None,
       "Machine wash cold with like colours; hang dry.",
       ("Natural", "Black")),
    _C("KIT", "Beeswax Food Wraps, set of 3", "21.00", None,
       "Wash in cool soapy water and air dry. Refresh the wax in a low oven when tacky."),
    # Accessories.
    _C("ACC", "Canvas Tote Bag", "28.00", None,
       "Spot clean; machine wash cold inside out if needed and air dry."),
    _C("ACC", "Merino Wool Socks", "22.00", None,
       "Wash inside out on a wool cycle and lay flat to dry.",
       ("S", "M", "L")),
    _C("ACC", "Insulated Water Bottle, 24 oz", "32.00", None,
       "Hand-wash; use a bottle brush weekly. Keeps drinks cold 24 hours.",
       ("Glacier", "Forest", "Black")),
    _C("ACC", "Leather Card Wallet", "45.00", None,
       "Condition twice a year with leather balm; keep away from prolonged moisture.",
       ("Tan", "Black")),
    _C("ACC", "Ribbed Wool Beanie", "34.00", None,
       "Hand-wash cold with wool detergent, reshape and dry flat.",
       ("Heather grey", "Mustard", "Navy")),
    _C("ACC", "Compact Travel Umbrella", "38.00", None,
       "Open it to dry after use before folding; never store wet."),
    _C("ACC", "Recycled Wool Scarf", "58.00", None,
       "Dry clean or hand-wash cold; air out between wears.",
       ("Camel", "Charcoal")),
)
# fmt: on

# --- People and places ----------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Common first and last names (frequency lists), combined at random: nobody in particular.
FIRST_NAMES = _words(
    """
    James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
    Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy
    Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul
    Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy
    Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Amy Jacob Kathleen
    Gary Angela Nicholas Shirley Eric Brenda Jonathan Emma Stephen Anna Larry Pamela Justin
    Nicole Scott Samantha Brandon Katherine Benjamin Christine Samuel Helen Gregory Debra
    Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry
    Catherine Tyler Diane Aaron Julie Jose Victoria Adam Joyce Nathan Lauren Henry Kelly Zachary
    Christina Douglas Ruth Peter Joan Kyle Virginia Noah Judith Ethan Evelyn Jeremy Hannah
    Walter Andrea Christian Megan Keith Cheryl Roger Jacqueline Terry Martha Austin Madison Sean
    Teresa Gerald Gloria Carl Sara Harold Janice Dylan Ann Arthur Kathryn Lawrence Abigail
    Jordan Sophia Jesse Frances Bryan Jean Billy Alice Bruce Judy Gabriel Isabella Joe Julia
    Logan Grace Alan Amber Juan Denise Albert Danielle Willie Marilyn Elijah Beverly Wayne
    Charlotte Randy Natalie Vincent Theresa Mason Diana Roy Brittany Ralph Doris Bobby Kayla
    Russell Alexis Bradley Lori Philip Marie Eugene Priya Wei Aisha Mateo Sofia Diego Camila
    Luis Yuki Omar Fatima
    """
)
LAST_NAMES = _words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
    Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook
    Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
    Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez
    Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan
    Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson
    Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera
    Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison
    Fernandez Mcdonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker
    Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason
    Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox
    Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan
    Gardner Payne Grant Dunn
    """
)
STREETS = _words(
    """
    Maple Oak Cedar Pine Elm Willow Birch Walnut Chestnut Spruce Lake Hill Park Meadow Ridge
    River Spring Forest Sunset Highland Church Mill Washington Lincoln Jefferson Madison
    Franklin Adams Jackson Center Main Broad Market Union Prospect Grove
    """
)
STREET_KINDS = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl")


@dataclass(frozen=True)
class Place:
    city: str
    province: str
    postcode: str  # a full postcode abroad; a three-digit ZIP prefix in the US
    country: str
    tz: str
    phone: str  # a fictional-range pattern; each "d" becomes a digit
    tax_rate: Decimal
    weight: float

    @property
    def is_domestic(self) -> bool:
        return self.country == "US"

    @property
    def label(self) -> str:
        return f"{self.city}, {self.province or self.country}"


def _us(city: str, state: str, zip3: str, tz: str, area: str, tax: str, w: float) -> Place:
    # 555-0100 to 555-0199 is the North American range reserved for fiction.
    return Place(city, state, zip3, "US", f"America/{tz}", f"+1{area}55501dd", Decimal(tax), w)


PLACES: tuple[Place, ...] = (
    _us("New York", "NY", "100", "New_York", "212", "0.08875", 8),
    _us("Brooklyn", "NY", "112", "New_York", "718", "0.08875", 5),
    _us("Los Angeles", "CA", "900", "Los_Angeles", "213", "0.095", 6),
    _us("San Francisco", "CA", "941", "Los_Angeles", "415", "0.08625", 3),
    _us("San Diego", "CA", "921", "Los_Angeles", "619", "0.0775", 2),
    _us("Chicago", "IL", "606", "Chicago", "312", "0.1025", 5),
    _us("Houston", "TX", "770", "Chicago", "713", "0.0825", 4),
    _us("Austin", "TX", "787", "Chicago", "512", "0.0825", 3),
    _us("Dallas", "TX", "752", "Chicago", "214", "0.0825", 3),
    _us("Phoenix", "AZ", "850", "Phoenix", "602", "0.086", 3),
    _us("Philadelphia", "PA", "191", "New_York", "215", "0.08", 3),
    _us("Seattle", "WA", "981", "Los_Angeles", "206", "0.1035", 3),
    _us("Portland", "OR", "972", "Los_Angeles", "503", "0", 2),
    _us("Denver", "CO", "802", "Denver", "303", "0.0881", 3),
    _us("Boston", "MA", "021", "New_York", "617", "0.0625", 3),
    _us("Atlanta", "GA", "303", "New_York", "404", "0.089", 3),
    _us("Miami", "FL", "331", "New_York", "305", "0.07", 3),
    _us("Orlando", "FL", "328", "New_York", "407", "0.065", 2),
    _us("Minneapolis", "MN", "554", "Chicago", "612", "0.08875", 2),
    _us("Nashville", "TN", "372", "Chicago", "615", "0.0925", 2),
    _us("Charlotte", "NC", "282", "New_York", "704", "0.0725", 2),
    _us("Columbus", "OH", "432", "New_York", "614", "0.075", 2),
    _us("Detroit", "MI", "482", "Detroit", "313", "0.06", 2),
    _us("Salt Lake City", "UT", "841", "Denver", "801", "0.0775", 1),
    _us("Las Vegas", "NV", "891", "Los_Angeles", "702", "0.08375", 1),
    _us("Washington", "DC", "200", "New_York", "202", "0.06", 2),
    _us("Baltimore", "MD", "212", "New_York", "410", "0.06", 1),
    _us("Pittsburgh", "PA", "152", "New_York", "412", "0.07", 1),
    _us("Kansas City", "MO", "641", "Chicago", "816", "0.09", 1),
    _us("New Orleans", "LA", "701", "Chicago", "504", "0.0945", 1),
    _us("Boise", "ID", "837", "Boise", "208", "0.06", 1),
    _us("Albuquerque", "NM", "871", "Denver", "505", "0.07875", 1),
    _us("Anchorage", "AK", "995", "Anchorage", "907", "0", 0.5),
    Place("Honolulu", "HI", "968", "US", "Pacific/Honolulu", "+180855501dd", Decimal("0.045"), 0.5),
    # Abroad: duties are the recipient's, so no tax is charged at checkout.
    Place("Toronto", "ON", "M5V 2T6", "CA", "America/Toronto", "+141655501dd", Decimal(0), 1),
    Place("Vancouver", "BC", "V6B 1A1", "CA", "America/Vancouver", "+160455501dd", Decimal(0), 0.5),
    Place("London", "", "EC1V 9HX", "GB", "Europe/London", "+4420794600dd", Decimal(0), 1),
    Place("Berlin", "", "10115", "DE", "Europe/Berlin", "+4930231250dd", Decimal(0), 0.5),
    Place("Dublin", "", "D02 X285", "IE", "Europe/Dublin", "+3538580000dd", Decimal(0), 0.3),
    Place("Sydney", "NSW", "2000", "AU", "Australia/Sydney", "+6125550dddd", Decimal(0), 0.5),
)
LOCALES = {"US": "en-US", "CA": "en-CA", "GB": "en-GB", "DE": "de-DE", "IE": "en-IE", "AU": "en-AU"}
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# --- Carriers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Carrier:
    name: str
    transit_days: tuple[int, int]
    hubs: tuple[str, ...]
    url: str
    number: str  # the tracking number's shape; each "d" becomes a digit


def _fill(rng: random.Random, pattern: str) -> str:
    return "".join(rng.choice("0123456789") if c == "d" else c for c in pattern)


CARRIERS = {
    c.name: c
    for c in (
        Carrier(
            "USPS",
            (2, 5),
            ("Columbus, OH", "Chicago, IL", "Kansas City, MO", "Denver, CO", "Dallas, TX"),
            "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
            "9400" + "d" * 18,
        ),
        Carrier(
            "UPS",
            (1, 5),
            ("Louisville, KY", "Hodgkins, IL", "Dallas, TX", "Ontario, CA"),
            "https://www.ups.com/track?tracknum={}",
            "1Z4E7A9103" + "d" * 8,
        ),
        Carrier(
            "FedEx",
            (1, 4),
            ("Indianapolis, IN", "Memphis, TN", "Fort Worth, TX", "Oakland, CA"),
            "https://www.fedex.com/fedextrack/?trknbr={}",
            "d" * 12,
        ),
        Carrier(
            "DHL",
            (3, 7),
            ("Hebron, KY", "Leipzig, DE", "East Midlands, GB"),
            "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={}",
            "d" * 10,
        ),
    )
}
HUB_SCANS = ("Arrived at carrier facility", "Departed carrier facility", "In transit")
DELIVERED_SCANS = (
    "Delivered, front door",
    "Delivered, front porch",
    "Delivered, left with individual",
    "Delivered, in or at mailbox",
    "Delivered, parcel locker",
)
CANCEL_REASONS = (
    "Customer changed their mind",
    "Ordered the wrong variant",
    "Item out of stock",
    "Payment flagged as suspected fraud",
)

# --- Public entry point ---------------------------------------------------------------------


@dataclass
class DemoSummary:
    shop: Shop
    counts: dict[str, int]
    statuses: dict[str, int]
    staff_username: str
    admin_username: str
    password: str
    users_created: dict[str, bool]
    api_key: str


def demo_reference_now(today: date | None = None) -> datetime:
    """Today at midnight UTC: stable through the day, recent whatever the day."""
    today = today or datetime.now(tz=UTC).date()
    return datetime.combine(today, time(0), tzinfo=UTC)


def demo_seed(
    *,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    password: str = DEFAULT_PASSWORD,
    now: datetime | None = None,
) -> DemoSummary:
    """Create the demo shop with its catalogue, customers and order history, a staff owner,
    a superuser and an API key. Raises ValueError if the demo shop already exists."""
    if Shop.objects.filter(models.Q(slug=SHOP_SLUG) | models.Q(domain=SHOP_DOMAIN)).exists():
        raise ValueError(f"A shop '{SHOP_SLUG}' ({SHOP_DOMAIN}) already exists.")
    now = now or demo_reference_now()
    start = now - HISTORY
    customers = max(1, round(CUSTOMERS_AT_SCALE_1 * scale))
    counts: dict[str, int] = {}
    with transaction.atomic():
        with _explicit_timestamps():
            shop = _shop_create(_rng(seed, "shop"), start)
            items = _catalog_create(_rng(seed, "catalog"), shop, start)
            buyers = _buyers_make(_rng(seed, "customers"), customers)
            plans = _orders_plan(_rng(seed, "plans"), buyers, items, start, now)
            _customers_create(_rng(seed, "consent"), shop, buyers, plans, now)
            statuses = _orders_create(_rng(seed, "orders"), shop, plans, now, counts)
        users_created = _users_ensure(shop, password)
        _, raw_key = api_key_create(shop=shop, name="Demo key")
    counts.update(products=len({i.product.pk for i in items}), variants=len(items))
    counts.update(customers=len(buyers))
    return DemoSummary(
        shop=shop,
        counts=counts,
        statuses=statuses,
        staff_username=STAFF_USERNAME,
        admin_username=ADMIN_USERNAME,
        password=password,
        users_created=users_created,
        api_key=raw_key,
    )


def _rng(seed: int, stage: str) -> random.Random:
    # One stream per stage, so a change in one stage leaves the others' data as it was.
    return random.Random(f"{seed}:{stage}")


_HISTORY_MODELS = (
    Shop,
    CarrierAccount,
    Product,
    Variant,
    Customer,
    Consent,
    Order,
    LineItem,
    Shipment,
    TrackingEvent,
    OrderEvent,
)


@contextmanager
def _explicit_timestamps() -> Iterator[None]:
    """Let history rows keep the times we give them: auto_now(_add) would stamp them all with
    the moment of seeding, and bulk_create offers no way around it."""
    touched = [f for model in _HISTORY_MODELS for f in _auto_fields(model)]
    for f, _, _ in touched:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in touched:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _auto_fields(model: type[models.Model]) -> list[tuple[models.DateTimeField, bool, bool]]:
    return [
        (f, f.auto_now, f.auto_now_add)
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add)
    ]


# --- Shop, catalogue, people ----------------------------------------------------------------


def _shop_create(rng: random.Random, start: datetime) -> Shop:
    created = start - timedelta(days=45)
    shop = Shop.objects.create(
        name="Northwind Goods",
        slug=SHOP_SLUG,
        domain=SHOP_DOMAIN,
        website_url=STOREFRONT,
        currency="USD",
        timezone="America/New_York",
        locale="en",
        primary_colour="#2f6f5e",
        support_email="help@northwind-goods.example",
        support_phone="+1 614-555-0142",
        shopify_webhook_secret=f"shpss_{rng.getrandbits(128):032x}",
        created_at=created,
        updated_at=created,
    )
    CarrierAccount.objects.create(
        shop=shop,
        provider=WebhookProvider.EASYPOST,
        webhook_secret=f"whsec_{rng.getrandbits(128):032x}",
        created_at=created,
        updated_at=created,
    )
    return shop


@dataclass(frozen=True)
class CatalogItem:
    """One sellable variant with what planning needs to know about its product."""

    product: Product
    variant: Variant
    spec: ProductSpec

    @property
    def popularity(self) -> float:
        if self.spec.days_of_use:
            return 3.0
        return 2.0 if self.variant.price < 40 else 1.0


def _catalog_create(rng: random.Random, shop: Shop, start: datetime) -> list[CatalogItem]:
    at = start - timedelta(days=30)
    stamps = {"created_at": at, "updated_at": at}
    products = [
        Product(
            shop=shop,
            external_id=str(8_104_000_000 + n),
            title=spec.title,
            url=f"{STOREFRONT}/products/{_handle(spec.title)}",
            is_consumable=spec.days_of_use is not None,
            days_of_use=spec.days_of_use,
            care_guide=spec.guide,
            **stamps,
        )
        for n, spec in enumerate(CATALOG, start=1)
    ]
    Product.objects.bulk_create(products)
    items: list[CatalogItem] = []
    for n, (product, spec) in enumerate(zip(products, CATALOG, strict=True), start=1):
        for v, entry in enumerate(spec.variants, start=1):
            title, _, price = entry.partition("=")
            variant = Variant(
                shop=shop,
                product=product,
                external_id=str(44_120_000_000 + n * 10 + v),
                sku=f"NW-{spec.category}-{n:03d}-{v:02d}",
                title=title,
                price=Decimal(price or spec.price),
                currency="USD",
                inventory_quantity=rng.randint(0, 400),
                **stamps,
            )
            items.append(CatalogItem(product, variant, spec))
    Variant.objects.bulk_create([i.variant for i in items])
    return items


def _handle(title: str) -> str:
    kept = "".join(c if c.isalnum() else " " for c in title.lower())
    return "-".join(kept.split())


@dataclass
class Buyer:
    """A customer as planned, before any row exists."""

    index: int
    first_name: str
    last_name: str
    email: str
    phone: str
    place: Place
    address1: str
    address2: str
    postcode: str
    birthday: date | None
    customer: Customer | None = None


def _buyers_make(rng: random.Random, count: int) -> list[Buyer]:
    weights = [p.weight for p in PLACES]
    buyers = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        place = rng.choices(PLACES, weights)[0]
        style = rng.randrange(3)
        local = (f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[:1]}")[style].lower()
        buyers.append(
            Buyer(
                index=index,
                first_name=first,
                last_name=last,
                email=f"{local}{index}@{EMAIL_DOMAINS[index % 3]}",
                phone=_fill(rng, place.phone) if rng.random() < 0.6 else "",
                place=place,
                address1=f"{rng.randint(2, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
                address2=f"Apt {rng.randint(1, 24)}{rng.choice('ABCD')}"
                if rng.random() < 0.3
                else "",
                postcode=place.postcode
                if not place.is_domestic
                else f"{place.postcode}{rng.randint(1, 60):02d}",
                birthday=_birthday(rng) if rng.random() < 0.35 else None,
            )
        )
    return buyers


def _birthday(rng: random.Random) -> date:
    return date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28))


# --- Planning the history -------------------------------------------------------------------


@dataclass
class Plan:
    buyer: Buyer
    placed_at: datetime
    lines: list[tuple[CatalogItem, int]]
    is_repeat: bool = False


# Demand through the year: a November-December peak, a January lull.
MONTH_WEIGHT = (0.75, 0.8, 0.9, 0.95, 1.0, 0.95, 0.9, 0.95, 1.0, 1.05, 1.55, 1.8)


def _seasonal_moment(rng: random.Random, buyer: Buyer, start: datetime, end: datetime) -> datetime:
    """A checkout time between start and end: more in the holiday season, more as the shop
    grows, and mostly in the buyer's evening."""
    span = max((end - start).days, 1)
    latest = end - timedelta(minutes=30)
    while True:
        offset = rng.randrange(span + 1)
        day = (start + timedelta(days=offset)).date()
        weight = MONTH_WEIGHT[day.month - 1] * (0.7 + 0.6 * offset / span)
        if _is_cyber_week(day):
            weight *= 1.6
        if rng.random() * 3.8 >= weight:
            continue
        hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0] + rng.random()
        moment = _local(day, hour, ZoneInfo(buyer.place.tz))
        # A local evening can fall outside the window in UTC: draw again rather than clamp,
        # which would pile orders up on the same instant.
        if start <= moment <= latest:
            return moment


def _is_cyber_week(day: date) -> bool:
    """Black Friday to Cyber Monday, give or take."""
    return (day.month == 11 and day.day >= 24) or (day.month == 12 and day.day <= 2)


_HOUR_WEIGHTS = (1, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4, 4, 5, 5, 4, 4, 4, 5, 6, 7, 8, 8, 6, 3)


def _local(day: date, hour: float, tz: ZoneInfo) -> datetime:
    moment = datetime.combine(day, time(0), tzinfo=tz) + timedelta(hours=hour)
    return moment.astimezone(UTC)


def _orders_plan(
    rng: random.Random,
    buyers: Sequence[Buyer],
    items: Sequence[CatalogItem],
    start: datetime,
    now: datetime,
) -> list[Plan]:
    """Who buys what, when. Most customers buy once; some come back now and then; a loyal
    minority re-buy their consumables on the rhythm the product lasts."""
    weights = [i.popularity for i in items]
    consumables = [i for i in items if i.spec.days_of_use]
    plans: list[Plan] = []
    for buyer in buyers:
        kind = rng.random()
        if kind < 0.54:
            plans.append(_plan_one(rng, buyer, items, weights, start, now))
        elif kind < 0.73:
            plans += _plans_occasional(rng, buyer, items, weights, start, now)
        else:
            plans += _plans_loyal(rng, buyer, items, weights, consumables, start, now)
    plans.sort(key=lambda p: (p.placed_at, p.buyer.index))
    return plans


def _basket(
    rng: random.Random, items: Sequence[CatalogItem], weights: Sequence[float], size: int
) -> list[tuple[CatalogItem, int]]:
    chosen: dict[int, tuple[CatalogItem, int]] = {}
    while len(chosen) < size:
        item = rng.choices(items, weights)[0]
        qty = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        chosen.setdefault(item.variant.sku, (item, qty))
    return list(chosen.values())


def _basket_size(rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4), weights=(45, 30, 17, 8))[0]


def _plan_one(rng, buyer, items, weights, start, end) -> Plan:
    moment = _seasonal_moment(rng, buyer, start, end)
    return Plan(buyer, moment, _basket(rng, items, weights, _basket_size(rng)))


def _plans_occasional(rng, buyer, items, weights, start, now) -> list[Plan]:
    first = _plan_one(rng, buyer, items, weights, start, now - timedelta(days=20))
    later = [
        _plan_one(rng, buyer, items, weights, first.placed_at + timedelta(days=7), now)
        for _ in range(rng.choices((1, 2, 3, 4, 5), weights=(35, 27, 18, 12, 8))[0])
    ]
    for plan in later:
        plan.is_repeat = True
    return [first, *later]


def _plans_loyal(rng, buyer, items, weights, consumables, start, now) -> list[Plan]:
    """Orders driven by when each staple runs out: every staple due within a week of the
    earliest one goes into the same order, and each cycle a few customers drift away."""
    staples = rng.sample(consumables, k=rng.choices((1, 2), weights=(65, 35))[0])
    qty = {s.variant.sku: 1 if rng.random() < 0.85 else 2 for s in staples}
    first = _seasonal_moment(rng, buyer, start, start + (now - start) * 0.5)
    due = {s.variant.sku: first for s in staples}
    plans: list[Plan] = []
    while True:
        at = min(due.values())
        if at >= now - timedelta(hours=1):
            break
        lines = [(s, qty[s.variant.sku]) for s in staples if due[s.variant.sku] <= at + _WEEK]
        for staple, n in lines:
            cycle = staple.spec.days_of_use * n * rng.uniform(0.85, 1.2)
            due[staple.variant.sku] = at + timedelta(days=cycle, hours=rng.uniform(-10, 10))
        if rng.random() < 0.3:
            extra = _basket(rng, items, weights, 1)[0]
            if extra[0].variant.sku not in due:
                lines.append(extra)
        plans.append(Plan(buyer, at, lines, is_repeat=bool(plans)))
        if rng.random() < 0.018:
            break
    return plans


_WEEK = timedelta(days=7)


def _customers_create(
    rng: random.Random, shop: Shop, buyers: Sequence[Buyer], plans: Sequence[Plan], now: datetime
) -> None:
    first_seen: dict[int, datetime] = {}
    last_seen: dict[int, datetime] = {}
    for plan in plans:
        first_seen.setdefault(plan.buyer.index, plan.placed_at)
        last_seen[plan.buyer.index] = plan.placed_at
    for b in buyers:
        joined = first_seen.get(b.index, now - timedelta(days=1)) - timedelta(minutes=2)
        b.customer = Customer(
            shop=shop,
            external_id=str(6_912_000_000_000 + b.index),
            email=b.email,
            phone=b.phone,
            first_name=b.first_name,
            last_name=b.last_name,
            birthday=b.birthday,
            timezone=b.place.tz,
            locale=LOCALES[b.place.country],
            created_at=joined,
            updated_at=last_seen.get(b.index, joined),
        )
    Customer.objects.bulk_create([b.customer for b in buyers], batch_size=BATCH)
    consents = [c for b in buyers for c in _consents(rng, shop, b, now)]
    Consent.objects.bulk_create(consents, batch_size=BATCH)


def _consents(rng: random.Random, shop: Shop, buyer: Buyer, now: datetime) -> list[Consent]:
    """Marketing consent as customers give it: at checkout or from the newsletter form, for
    email more often than for SMS, and now and then taken back."""
    joined = buyer.customer.created_at
    wanted = [(Channel.EMAIL, 0.45)] + ([(Channel.SMS, 0.3)] if buyer.phone else [])
    consents = []
    for channel, chance in wanted:
        if rng.random() >= chance:
            continue
        source, detail = rng.choice(
            (("shopify checkout", "Ticked at checkout"), ("signup form", "Footer newsletter form"))
        )
        status, at = ConsentStatus.GRANTED, joined
        if rng.random() < 0.08:
            status, source, detail = ConsentStatus.REVOKED, "unsubscribe link", "One-click"
            at = joined + (now - joined) * rng.uniform(0.2, 0.9)
        consents.append(
            Consent(
                shop=shop,
                customer=buyer.customer,
                channel=channel,
                status=status,
                changed_at=at,
                source=source,
                detail=detail,
                created_at=joined,
                updated_at=at,
            )
        )
    return consents


# --- Orders, shipments, tracking ------------------------------------------------------------


@dataclass
class Batch:
    """Rows for a run of orders, inserted parent before child."""

    orders: list[Order] = field(default_factory=list)
    lines: list[LineItem] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    shipment_items: list[ShipmentItem] = field(default_factory=list)
    scans: list[TrackingEvent] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    # Timeline entries that name a shipment, completed once the shipment has its id.
    shipment_events: list[tuple[OrderEvent, Shipment]] = field(default_factory=list)

    def save(self) -> None:
        Order.objects.bulk_create(self.orders, batch_size=BATCH)
        LineItem.objects.bulk_create(self.lines, batch_size=BATCH)
        Shipment.objects.bulk_create(self.shipments, batch_size=BATCH)
        ShipmentItem.objects.bulk_create(self.shipment_items, batch_size=BATCH)
        TrackingEvent.objects.bulk_create(self.scans, batch_size=BATCH)
        for event, shipment in self.shipment_events:
            event.data = {**event.data, "shipment_id": shipment.pk}
        OrderEvent.objects.bulk_create(self.events, batch_size=BATCH)


def _orders_create(
    rng: random.Random, shop: Shop, plans: Sequence[Plan], now: datetime, counts: dict[str, int]
) -> dict[str, int]:
    statuses: dict[str, int] = {}
    totals = dict.fromkeys(
        ("orders", "line_items", "shipments", "tracking_events", "order_events"), 0
    )
    for first in range(0, len(plans), BATCH):
        batch = Batch()
        for offset, plan in enumerate(plans[first : first + BATCH]):
            order = _order_build(rng, shop, first + offset, plan, now, batch)
            statuses[order.status] = statuses.get(order.status, 0) + 1
        batch.save()
        totals["orders"] += len(batch.orders)
        totals["line_items"] += len(batch.lines)
        totals["shipments"] += len(batch.shipments)
        totals["tracking_events"] += len(batch.scans)
        totals["order_events"] += len(batch.events)
    counts.update(totals)
    return statuses


def _order_build(
    rng: random.Random, shop: Shop, seq: int, plan: Plan, now: datetime, batch: Batch
) -> Order:
    buyer = plan.buyer
    paid_at = plan.placed_at + timedelta(seconds=rng.randint(4, 90))
    order = Order(
        shop=shop,
        customer=buyer.customer,
        external_id=str(5_512_300_000_000 + seq * 7),
        number=f"#{1001 + seq}",
        source=OrderSource.DEMO,
        currency="USD",
        financial_status=FinancialStatus.PAID,
        placed_at=plan.placed_at,
        paid_at=paid_at,
        email=buyer.email,
        phone=buyer.phone,
        shipping_name=f"{buyer.first_name} {buyer.last_name}",
        shipping_address1=buyer.address1,
        shipping_address2=buyer.address2,
        shipping_city=buyer.place.city,
        shipping_province=buyer.place.province,
        shipping_postcode=buyer.postcode,
        shipping_country=buyer.place.country,
        created_at=plan.placed_at,
    )
    lines = _lines_build(rng, order, plan, batch)
    _price(rng, order, plan, lines)
    timeline = Timeline(order, batch)
    timeline.add(plan.placed_at, OrderEvent.Kind.CREATED, note="from Demo data")
    timeline.add(paid_at, OrderEvent.Kind.PAID)
    _fulfil(rng, order, plan, lines, now, timeline)
    timeline.close()
    order.updated_at = timeline.last_at
    order.source_updated_at = timeline.last_at
    batch.orders.append(order)
    return order


def _lines_build(rng: random.Random, order: Order, plan: Plan, batch: Batch) -> list[LineItem]:
    lines = []
    for n, (item, qty) in enumerate(plan.lines):
        line = LineItem(
            shop_id=order.shop_id,
            order=order,
            external_id=f"{order.external_id}{n + 1:02d}",
            product=item.product,
            variant=item.variant,
            sku=item.variant.sku,
            title=item.product.title,
            variant_title="" if item.variant.title == "Default Title" else item.variant.title,
            quantity=qty,
            unit_price=item.variant.price,
            created_at=order.placed_at,
            updated_at=order.placed_at,
        )
        lines.append(line)
    batch.lines += lines
    return lines


def _price(rng: random.Random, order: Order, plan: Plan, lines: Sequence[LineItem]) -> None:
    """Subtotal - discounts + shipping + tax = total, each rounded once to the cent."""
    rate = _discount_rate(rng, plan)
    subtotal = sum((li.unit_price * li.quantity for li in lines), Decimal("0.00"))
    for li in lines:
        li.discount_total = _cents(li.unit_price * li.quantity * rate)
    discount = sum((li.discount_total for li in lines), Decimal("0.00"))
    net = subtotal - discount
    if not plan.buyer.place.is_domestic:
        shipping = Decimal("24.00")
    elif net >= 75:
        shipping = Decimal("0.00")
    else:
        shipping = Decimal("14.95") if rng.random() < 0.12 else Decimal("5.95")
    tax = _cents(net * plan.buyer.place.tax_rate)
    order.subtotal, order.discount_total = subtotal, discount
    order.shipping_total, order.tax_total = shipping, tax
    order.total = net + shipping + tax


def _discount_rate(rng: random.Random, plan: Plan) -> Decimal:
    if _is_cyber_week(plan.placed_at.date()):
        return Decimal("0.20") if rng.random() < 0.6 else Decimal(0)
    if not plan.is_repeat and rng.random() < 0.2:
        return Decimal("0.10")  # first-order welcome code
    if plan.is_repeat and rng.random() < 0.12:
        return Decimal("0.15")  # thank-you code in a post-purchase email
    return Decimal(0)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Timeline:
    """An order's timeline (OrderEvent rows), in the order things happened."""

    def __init__(self, order: Order, batch: Batch) -> None:
        self.order, self.batch = order, batch
        self.last_at = order.placed_at
        self.events: list[OrderEvent] = []
        self.shipments: list[Shipment] = []

    def add(
        self,
        at: datetime,
        kind: str,
        *,
        shipment: Shipment | None = None,
        from_status: str = "",
        to_status: str = "",
        note: str = "",
    ) -> None:
        event = OrderEvent(
            shop_id=self.order.shop_id,
            order=self.order,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            note=note,
            at=at,
        )
        if shipment is not None:
            event.data = {"tracking_number": shipment.tracking_number}
            self.batch.shipment_events.append((event, shipment))
        self.events.append(event)
        self.last_at = max(self.last_at, at)

    def close(self) -> None:
        # Two parcels interleave their scans; ids should follow time, as live ingestion does.
        self.batch.events += sorted(self.events, key=lambda e: e.at)


def _fulfil(
    rng: random.Random,
    order: Order,
    plan: Plan,
    lines: Sequence[LineItem],
    now: datetime,
    timeline: Timeline,
) -> None:
    """Cancel a few orders before they ship; ship the rest in one parcel, or two when part of
    the order was backordered; then follow each parcel until `now`."""
    cancel_at = order.placed_at + timedelta(hours=rng.uniform(0.2, 20))
    if rng.random() < 0.025 and cancel_at < now:
        _cancel(rng, order, cancel_at, timeline)
        return
    ship_at = order.placed_at + timedelta(hours=rng.uniform(3, 40))
    parcels = [(ship_at, list(lines))]
    if len(lines) >= 2 and rng.random() < 0.1:
        cut = rng.randint(1, len(lines) - 1)
        later = ship_at + timedelta(days=rng.uniform(1, 4))
        parcels = [(ship_at, list(lines[:cut])), (later, list(lines[cut:]))]
    shipments = [
        _ship(rng, order, plan, parcel, at, now, timeline) for at, parcel in parcels if at < now
    ]
    if not shipments:
        return
    order.status = OrderStatus.SHIPPED
    timeline.add(
        shipments[0].shipped_at,
        OrderEvent.Kind.STATUS_CHANGED,
        from_status=OrderStatus.PLACED,
        to_status=OrderStatus.SHIPPED,
    )
    if len(shipments) == len(parcels) and all(s.is_delivered for s in shipments):
        _deliver(rng, order, max(s.delivered_at for s in shipments), now, timeline)


def _cancel(rng: random.Random, order: Order, at: datetime, timeline: Timeline) -> None:
    reason = rng.choice(CANCEL_REASONS)
    order.status = OrderStatus.CANCELLED
    order.cancelled_at, order.cancel_reason = at, reason
    order.financial_status = FinancialStatus.REFUNDED
    timeline.add(
        at,
        OrderEvent.Kind.STATUS_CHANGED,
        from_status=OrderStatus.PLACED,
        to_status=OrderStatus.CANCELLED,
        note=reason,
    )


def _deliver(
    rng: random.Random, order: Order, at: datetime, now: datetime, timeline: Timeline
) -> None:
    order.status, order.delivered_at = OrderStatus.DELIVERED, at
    timeline.add(
        at,
        OrderEvent.Kind.STATUS_CHANGED,
        from_status=OrderStatus.SHIPPED,
        to_status=OrderStatus.DELIVERED,
    )
    closed_at = at + timedelta(days=rng.uniform(30, 60))
    if closed_at < now and rng.random() < 0.4:
        order.status = OrderStatus.CLOSED
        timeline.add(
            closed_at,
            OrderEvent.Kind.STATUS_CHANGED,
            from_status=OrderStatus.DELIVERED,
            to_status=OrderStatus.CLOSED,
            note="Archived",
        )


def _carrier(rng: random.Random, place: Place) -> Carrier:
    if not place.is_domestic:
        return CARRIERS["DHL"]
    return CARRIERS[rng.choices(("USPS", "UPS", "FedEx"), weights=(45, 30, 25))[0]]


def _ship(
    rng: random.Random,
    order: Order,
    plan: Plan,
    lines: Sequence[LineItem],
    ship_at: datetime,
    now: datetime,
    timeline: Timeline,
) -> Shipment:
    carrier = _carrier(rng, plan.buyer.place)
    number = _fill(rng, carrier.number)
    tz = ZoneInfo(plan.buyer.place.tz)
    shipment = Shipment(
        shop_id=order.shop_id,
        order=order,
        external_id=f"{order.external_id}-F{len(timeline.shipments) + 1}",
        carrier=carrier.name,
        tracking_number=number,
        tracking_url=carrier.url.format(number),
        estimated_delivery_date=(ship_at + timedelta(days=carrier.transit_days[1]))
        .astimezone(tz)
        .date(),
        shipped_at=ship_at,
        created_at=ship_at,
    )
    timeline.shipments.append(shipment)
    timeline.batch.shipments.append(shipment)
    timeline.batch.shipment_items += [
        ShipmentItem(shipment=shipment, line_item=li, quantity=li.quantity) for li in lines
    ]
    timeline.add(ship_at, OrderEvent.Kind.SHIPMENT_CREATED, shipment=shipment, note=str(shipment))
    scans = [s for s in _journey(rng, carrier, plan.buyer.place, ship_at) if s.occurred_at < now]
    _track(shipment, scans, timeline)
    return shipment


def _track(shipment: Shipment, scans: Sequence[TrackingEvent], timeline: Timeline) -> None:
    """Record the scans and move the shipment as the tracking service would."""
    status = ShipmentStatus.PENDING
    for scan in scans:
        scan.shop_id, scan.shipment = shipment.shop_id, shipment
        scan.source, scan.created_at = "easypost", scan.occurred_at + timedelta(seconds=20)
        if scan.status != status and can_transition(status, scan.status, SHIPMENT_TRANSITIONS):
            timeline.add(
                scan.occurred_at,
                OrderEvent.Kind.SHIPMENT_STATUS,
                shipment=shipment,
                from_status=status,
                to_status=scan.status,
            )
            status = scan.status
    shipment.status = status
    shipment.last_event_at = scans[-1].occurred_at if scans else None
    if status == ShipmentStatus.DELIVERED:
        shipment.delivered_at = scans[-1].occurred_at
    shipment.updated_at = shipment.last_event_at or shipment.created_at
    timeline.batch.scans += scans


def _scan(status: str, at: datetime, description: str, location: str) -> TrackingEvent:
    key = TrackingEventData(status, at, description, location).dedupe_key()
    return TrackingEvent(
        status=status, occurred_at=at, description=description, location=location, dedupe_key=key
    )


def _journey(
    rng: random.Random, carrier: Carrier, place: Place, ship_at: datetime
) -> list[TrackingEvent]:
    """A parcel's whole trip, from label to doorstep, with the odd exception on the way."""
    tz = ZoneInfo(place.tz)
    pickup = ship_at + timedelta(hours=rng.uniform(2, 9))
    arrival = (pickup + timedelta(days=rng.randint(*carrier.transit_days))).astimezone(tz).date()
    mishap = rng.random()
    if mishap < 0.03:
        arrival += timedelta(days=rng.randint(1, 2))  # held up by weather on the way
    out = _local(arrival, rng.uniform(6.5, 9.5), tz)
    at_destination = out - timedelta(hours=rng.uniform(2, 5))
    scans = [
        _scan(TrackingStatus.LABEL_CREATED, ship_at, "Shipping label created", ORIGIN),
        _scan(TrackingStatus.IN_TRANSIT, pickup, "Picked up by carrier", ORIGIN),
    ]
    hubs = sorted(rng.sample(range(len(carrier.hubs)), k=rng.randint(1, 2)))
    for n, hub in enumerate(hubs, start=1):
        at = pickup + (at_destination - pickup) * (n / (len(hubs) + 1))
        scans.append(_scan(TrackingStatus.IN_TRANSIT, at, rng.choice(HUB_SCANS), carrier.hubs[hub]))
    if mishap < 0.03:
        at = scans[-1].occurred_at + timedelta(hours=1)
        scans.append(_scan(TrackingStatus.EXCEPTION, at, "Weather delay", carrier.hubs[hubs[-1]]))
    scans.append(
        _scan(TrackingStatus.IN_TRANSIT, at_destination, "Arrived at destination", place.label)
    )
    scans.append(_scan(TrackingStatus.OUT_FOR_DELIVERY, out, "Out for delivery", place.label))
    if 0.03 <= mishap < 0.07:
        failed = out + timedelta(hours=rng.uniform(3, 8))
        note = "Delivery attempted: no access to delivery location"
        scans.append(_scan(TrackingStatus.EXCEPTION, failed, note, place.label))
        out = _local(arrival + timedelta(days=1), rng.uniform(6.5, 9.5), tz)
        scans.append(_scan(TrackingStatus.OUT_FOR_DELIVERY, out, "Out for delivery", place.label))
    delivered = out + timedelta(hours=rng.uniform(1.5, 12))
    scans.append(
        _scan(TrackingStatus.DELIVERED, delivered, rng.choice(DELIVERED_SCANS), place.label)
    )
    return sorted(scans, key=lambda s: s.occurred_at)


# --- Logins ---------------------------------------------------------------------------------


def _users_ensure(shop: Shop, password: str) -> dict[str, bool]:
    """The demo owner and an admin superuser. An account that already exists keeps its
    password: it may be someone's real login."""
    user_model = get_user_model()
    created: dict[str, bool] = {}
    for username, is_superuser in ((STAFF_USERNAME, False), (ADMIN_USERNAME, True)):
        user = user_model.objects.filter(username=username).first()
        created[username] = user is None
        if user is None:
            make = (
                user_model.objects.create_superuser
                if is_superuser
                else user_model.objects.create_user
            )
            user = make(
                username=username, email=f"{username}@northwind-goods.example", password=password
            )
        if not is_superuser:
            StaffMembership.objects.get_or_create(
                user=user, shop=shop, defaults={"role": StaffRole.OWNER}
            )
    return created
