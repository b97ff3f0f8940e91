"""Moderation obeys the FTC rule on consumer reviews: the content rules decide, the rating never
does. The same words with 1★ and with 5★ get the same decision, for every rule."""

import ast
import inspect

import pytest

from feedback.models import ReviewIncentive, ReviewRule, ReviewStatus
from feedback.reviews import moderation
from feedback.reviews.moderation import ReviewContent, review_rule_hits
from feedback.reviews.services import review_photo_flag
from tests.factories import StaffMembershipFactory
from tests.feedback.helpers import GOOD_TEXT, delivered_order, jpeg_upload, review

pytestmark = pytest.mark.django_db

# (text, the rule it breaks): one case per rule and kind of match, and clean texts.
CASES = [
    ("This is shit, the zip broke after a week of use.", ReviewRule.PROFANITY),
    ("Total bullsh1t quality, the seams are coming apart.", ReviewRule.PROFANITY),
    ("Write to me at ada.lovelace@example.org about the colour.", ReviewRule.PERSONAL_DATA),
    ("Call me on +1 (555) 010-2000 if you need more details.", ReviewRule.PERSONAL_DATA),
    ("Delivered to 221 Baker Street without any trouble at all.", ReviewRule.PERSONAL_DATA),
    ("Cheaper ones at www.bargain-bags.example.com if you look.", ReviewRule.SPAM),
    ("See https://example.net/deal for the same thing cheaper.", ReviewRule.SPAM),
    ("Greaaaaaaaaat bag, really really roomy and light.", ReviewRule.SPAM),
    ("buy buy buy buy this now before it sells out", ReviewRule.SPAM),
    ("ok", ReviewRule.OFF_TOPIC),
    ("asdfghjk qwrtzplk xcvbnmmk lkjhgfdd", ReviewRule.OFF_TOPIC),
    (GOOD_TEXT, None),
    ("Arrived late and the handle snapped on day two. Disappointed.", None),
    ("Sizes 10 12 14 16 all fit as the chart says.", None),
]


@pytest.mark.parametrize(("text", "rule"), CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_a_rule_holds_the_words_whatever_the_rating(shop, text, rule):
    low_order, high_order = delivered_order(shop), delivered_order(shop)

    low = review(low_order, rating=1, body=text)
    high = review(high_order, rating=5, body=text)

    expected = ReviewStatus.HELD if rule else ReviewStatus.PUBLISHED
    assert low.status == high.status == expected
    assert low.held_rules == high.held_rules
    assert (rule in low.held_rules) if rule else low.held_rules == []


@pytest.mark.parametrize("rating", [1, 5])
def test_a_flagged_photo_holds_a_review_of_any_rating(shop, rating):
    order = delivered_order(shop)
    written = review(order, rating=rating, photos=[_photo()])
    manager = StaffMembershipFactory(shop=shop).user

    review_photo_flag(photo=written.photos.get(), actor=manager)

    written.refresh_from_db()
    assert written.status == ReviewStatus.HELD
    assert written.held_rules == [ReviewRule.PHOTO_NOT_PRODUCT]


def _photo():
    from orders.photos import photo_clean

    return photo_clean(jpeg_upload())


def test_no_rule_can_read_a_rating():
    fields = set(ReviewContent.__dataclass_fields__)
    assert "rating" not in fields
    tree = ast.parse(inspect.getsource(moderation))
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not {name for name in names if "rating" in name.lower()}


def test_no_setting_can_publish_or_delay_by_rating():
    incentive_fields = {f.name for f in ReviewIncentive._meta.get_fields()}
    assert not {name for name in incentive_fields if "rating" in name or "star" in name}
    hits = review_rule_hits(ReviewContent(title="", body=GOOD_TEXT))
    assert hits == []
