"""Topics: the phrases that set a shop's complaints apart from its praise, counted, quoted,
and the same topic (with the same name) from one week to the next."""

from datetime import UTC, datetime, timedelta

import pytest

from feedback.analysis.selectors import top_topics
from feedback.analysis.services import PendingText, record_text, record_texts_pending
from feedback.analysis.services import topics_refresh as refresh
from feedback.analysis.text import phrase_keys, stem
from feedback.models import AnalysedText, TextSource, Topic

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

LEAKING_LID = [
    "The lid was leaking when it arrived.",
    "Leaking lids, tea all over my desk.",
    "My lid leaks. Not happy.",
    "The lids are leaking again",
    "Leaking lids ruined my notebook",
    "the lid is leaking from day one",
    "Sadly the lid leaked in my bag.",
    "Leaking lids on both mugs.",
    "Second one, same leaking lids.",
    "lid leaking, returned it",
    "Leaking lid, what a mess.",
    "Lids leak if you tilt them.",
]
LATE = [
    "Late again.",
    "It came late.",
    "Delivery was late by a week",
    "Two weeks late!",
    "late and the box was crushed",
    "Very late for a birthday present",
    "Arrived late",
    "came late, no tracking updates",
    "Late. Nobody answered my email",
    "Promised Monday, was late",
]
OTHER_COMPLAINTS = [
    "Too sweet for me",
    "The colour faded after one wash",
    "Wrong size sent",
    "Handle cracked",
    "The strap broke",
    "Smells of plastic",
    "Box was crushed",
    "Not what the photo showed",
]
PRAISE = [
    "Lovely mug, keeps tea hot",
    "Great gift, my mum loves it",
    "Beautiful colour and solid handle",
    "Fast delivery and well packed",
    "Perfect size for my desk",
    "Nice weight, feels premium",
    "Exactly like the photo",
    "Keeps coffee warm for hours",
    "Pretty pattern, great quality",
    "Would buy again, thanks",
] * 4


def store(shop, texts, *, rating, start, first_id):
    record_texts_pending(
        shop=shop,
        texts=[
            PendingText(
                source=TextSource.REVIEW,
                source_id=first_id + i,
                text=text,
                rating=rating,
                written_at=start + timedelta(minutes=i),
            )
            for i, text in enumerate(texts)
        ],
    )


def the_shops_month(shop, *, start=NOW - timedelta(days=20)):
    store(shop, LEAKING_LID, rating=0.0, start=start, first_id=1)
    store(shop, LATE, rating=0.25, start=start, first_id=100)
    store(shop, OTHER_COMPLAINTS, rating=0.0, start=start, first_id=200)
    store(shop, PRAISE, rating=1.0, start=start, first_id=300)


def test_wordings_of_one_phrase_share_one_key():
    keys = {"leaking lids", "lid leaks", "the lid is leaking", "Leaked lid!", "LEAKING LID"}

    assert all("leak lid" in phrase_keys(text) for text in keys)
    assert stem("batteries") == stem("battery")
    assert stem("boxes") == stem("box")


def test_leaking_lid_and_late_come_top_among_complaints_with_counts_and_quotes(shop):
    the_shops_month(shop)

    outcome = refresh(shop_id=shop.pk, now=NOW)

    assert outcome.topics[:2] == ["leak lid", "lat"]
    found = top_topics(shop, since=NOW - timedelta(days=30), until=NOW)
    assert [(t.topic.label, t.count) for t in found[:2]] == [("leaking lids", 12), ("late", 10)]
    lid, late = found[0], found[1]
    # Quotes: the sentence of a complaint that says it.
    assert len(lid.examples) == 3
    assert all(any(q in text for text in LEAKING_LID) for q in lid.examples)
    assert all("leak" in q.lower() for q in lid.examples)
    assert len(late.examples) == 3
    assert all(any(q in text for text in LATE) for q in late.examples)
    assert all("late" in q.lower() for q in late.examples)
    # No word that only rides along in the pair, and no one-off complaint, is a topic.
    assert not {"lid", "leak", "strap", "sweet"} & {t.topic.key for t in found}


def test_each_text_links_to_the_topics_it_mentions(shop):
    the_shops_month(shop)

    refresh(shop_id=shop.pk, now=NOW)

    lid = Topic.objects.get(shop=shop, key="leak lid")
    assert lid.texts.count() == 12
    assert lid.negative_texts == 12
    assert lid.positive_texts == 0
    assert lid.rank == 1
    assert len(lid.examples) == 3
    text = AnalysedText.objects.get(shop=shop, source_id=1)
    assert list(text.topics.values_list("key", flat=True)) == ["leak lid"]


def test_a_topic_keeps_its_row_and_name_a_week_later_whatever_the_wording(shop):
    the_shops_month(shop)
    refresh(shop_id=shop.pk, now=NOW)
    first = Topic.objects.get(shop=shop, key="leak lid")
    # The next week's customers say it in the singular, and more often.
    week_later = NOW + timedelta(days=7)
    singular = ["Leaking lid again", "leaking lid, sadly", "The lid leaks", "Leaking lid!"] * 3
    store(shop, singular, rating=0.0, start=NOW + timedelta(days=2), first_id=1000)

    refresh(shop_id=shop.pk, now=week_later)

    again = Topic.objects.get(shop=shop, key="leak lid")
    assert again.pk == first.pk
    assert again.label == "leaking lids"
    assert again.first_found_at == first.first_found_at
    assert again.negative_texts == 24
    assert Topic.objects.filter(shop=shop, label__icontains="leak").count() == 1
    [lid, *_] = top_topics(shop, since=NOW, until=week_later)
    assert (lid.topic.pk, lid.count) == (first.pk, 12)


def test_a_text_recorded_between_runs_links_to_the_known_topics_at_once(shop):
    the_shops_month(shop)
    refresh(shop_id=shop.pk, now=NOW)

    text = record_text(
        shop=shop,
        source=TextSource.SURVEY_ANSWER,
        source_id=5,
        text="Lids leaking and it arrived late, awful.",
        rating=0.0,
    )

    assert set(text.topics.values_list("key", flat=True)) == {"leak lid", "lat"}


def test_topics_are_the_shops_own(shop, other_shop):
    the_shops_month(shop)
    store(other_shop, PRAISE[:5], rating=1.0, start=NOW - timedelta(days=3), first_id=1)

    refresh(shop_id=shop.pk, now=NOW)
    refresh(shop_id=other_shop.pk, now=NOW)

    assert not Topic.objects.filter(shop=other_shop).exists()
    assert top_topics(other_shop, since=NOW - timedelta(days=30), until=NOW) == []


def test_all_texts_counted_when_not_only_negatives(shop):
    the_shops_month(shop)
    record_texts_pending(
        shop=shop,
        texts=[
            PendingText(
                source=TextSource.REVIEW,
                source_id=900,
                text="The lid leaks a bit but I love it",
                rating=1.0,
                written_at=NOW - timedelta(days=1),
            )
        ],
    )
    refresh(shop_id=shop.pk, now=NOW)
    since = NOW - timedelta(days=30)

    negative = top_topics(shop, since=since, until=NOW)
    every = top_topics(shop, since=since, until=NOW, negative_only=False)

    assert negative[0].count == 12
    assert every[0].count == 13
