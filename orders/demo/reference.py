"""What the demo shop is made of: its catalogue, people, places and carriers."""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

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


def fill_pattern(rng: random.Random, pattern: str) -> str:
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
