"""Deterministic texts for the analysis tests: rated sets where a shop's own words decide
(so its model beats VADER) or where only general sentiment words do (so VADER stays), and a
hand-built set with known complaint topics."""

import random
from datetime import datetime, timedelta

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from feedback.analysis.services import PendingText, record_texts_pending
from feedback.models import TextSource

# Said as often in praise as in complaints: VADER's words that tell nothing here.
_NOISE = [
    "love the colour",
    "thanks for the quick reply",
    "sadly the box was plain",
    "great price",
    "honestly",
    "my son picked it",
    "bad timing for me but ok",
    "use it every day",
    "nice gift wrap",
    "",
]
# The shop's own words: neutral to VADER, decisive for this shop's customers.
_NEGATIVE = [
    "the lid leaks",
    "the seam split after a week",
    "the zip sticks halfway",
    "the strap snapped",
    "the lid leaks into my bag",
    "the handle wobbles",
]
_POSITIVE = [
    "the lid seals tight",
    "the seam holds up",
    "the zip glides",
    "the strap holds my laptop",
    "the handle feels solid",
    "keeps tea hot till evening",
]


def shop_words_texts(n: int = 300, *, seed: int = 7) -> list[tuple[str, float]]:
    """`n` rated texts (rating 0..1) where only the shop's own words tell praise from
    complaint; a tenth are 3★ (left out of training)."""
    rng = random.Random(seed)
    found = []
    for i in range(n):
        if i % 10 == 9:
            found.append((f"{rng.choice(_NOISE)} it is fine I guess".strip(), 0.5))
            continue
        negative = i % 2 == 0
        phrase = rng.choice(_NEGATIVE if negative else _POSITIVE)
        text = f"{rng.choice(_NOISE)}, {phrase}. {rng.choice(_NOISE)}".strip(" ,.")
        found.append((text, rng.choice([0.0, 0.25]) if negative else rng.choice([0.75, 1.0])))
    return found


def _lexicon_words(*, positive: bool) -> list[str]:
    lexicon = SentimentIntensityAnalyzer().lexicon
    words = [
        w
        for w, v in lexicon.items()
        if w.isalpha() and len(w) > 3 and (v >= 1.5 if positive else v <= -1.5)
    ]
    return sorted(words)


def general_words_texts(n: int = 300, *, seed: int = 11) -> list[tuple[str, float]]:
    """`n` rated texts each carrying its own general sentiment word, never repeated: VADER
    knows them all, while a model learning from this shop's texts sees each only once."""
    rng = random.Random(seed)
    positives, negatives = _lexicon_words(positive=True), _lexicon_words(positive=False)
    rng.shuffle(positives)
    rng.shuffle(negatives)
    found = []
    for i in range(n):
        negative = i % 2 == 0
        word = (negatives if negative else positives)[i // 2]
        filler = rng.choice(["the parcel", "this order", "the mug", "my jacket", "the delivery"])
        found.append((f"{filler} was {word}", 0.0 if negative else 1.0))
    return found


def store_rated(shop, texts: list[tuple[str, float]], *, start: datetime, first_id: int = 1):
    """Store the texts as reviews, unscored (the nightly round scores them)."""
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
            for i, (text, rating) in enumerate(texts)
        ],
    )
