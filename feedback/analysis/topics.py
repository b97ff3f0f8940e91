"""The words and pairs that set a shop's negative texts apart from its positive ones.

Each text counts once per phrase it contains (document frequency). Phrases are ranked by
the log-odds ratio of negative against positive texts with an informative Dirichlet prior,
the pooled counts (Monroe, Colaresi and Quinn, "Fightin' Words", 2008): its z-score rewards a
phrase that is both frequent and lopsided, so a phrase seen three times only in complaints
does not outrank "late" seen forty times in complaints and twice in praise. A word that is
mostly said as part of a chosen pair ("lid" in "leaking lid") gives way to the pair.

A topic is a `Topic` row keyed by the phrase's normalised key (see `text`): found again next
week, it is the same row with the same name, and texts link to it whatever their wording."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from feedback.analysis.text import phrases, quote

# A text is negative or positive by its customer's own rating when it has one, else by its
# sentiment (VADER's usual cut-offs, ±0.05).
NEGATIVE_RATING = 0.25
POSITIVE_RATING = 0.75
NEGATIVE_SENTIMENT = -0.05
POSITIVE_SENTIMENT = 0.05
# A topic is said by at least this many negative texts, and stands out at the 95% level.
MIN_NEGATIVE_TEXTS = 3
MIN_Z = 1.96
TOP_TOPICS = 25
# The prior's weight against the data: a tenth of the pooled counts. The full counts would
# drown a shop's few hundred texts (a phrase in 12 complaints and no praise would not stand
# out); a tenth still keeps a phrase seen in only three complaints from standing out.
PRIOR_SCALE = 0.1
EXAMPLES = 3
# A word gives way to a chosen pair holding it when it is said outside the pair less than
# this share of the time.
PAIR_COVERS = 0.5


def polarity(rating: float | None, sentiment: float | None) -> int:
    """-1 negative, 1 positive, 0 neither (a 3★ review, a neutral text, not yet scored)."""
    if rating is not None:
        return -1 if rating <= NEGATIVE_RATING else 1 if rating >= POSITIVE_RATING else 0
    if sentiment is None:
        return 0
    return -1 if sentiment <= NEGATIVE_SENTIMENT else 1 if sentiment >= POSITIVE_SENTIMENT else 0


@dataclass(frozen=True)
class Candidate:
    key: str
    negative: int
    positive: int
    z: float


@dataclass
class FoundTopic:
    key: str
    label: str
    negative: int
    positive: int
    z: float
    examples: list[str]


def log_odds_z(negative: Counter[str], positive: Counter[str]) -> list[Candidate]:
    """Every phrase's z-score, negative against positive, highest first."""
    keys = list(negative.keys() | positive.keys())
    if not keys:
        return []
    y_neg = np.array([negative[k] for k in keys], dtype=np.float64)
    y_pos = np.array([positive[k] for k in keys], dtype=np.float64)
    alpha = PRIOR_SCALE * (y_neg + y_pos)  # the pooled counts, scaled, as the prior
    alpha0 = alpha.sum()
    n_neg, n_pos = y_neg.sum(), y_pos.sum()
    delta = np.log((y_neg + alpha) / (n_neg + alpha0 - y_neg - alpha)) - np.log(
        (y_pos + alpha) / (n_pos + alpha0 - y_pos - alpha)
    )
    z = delta / np.sqrt(1.0 / (y_neg + alpha) + 1.0 / (y_pos + alpha))
    order = np.argsort(-z, kind="stable")
    return [
        Candidate(keys[i], int(y_neg[i]), int(y_pos[i]), float(z[i])) for i in order if y_neg[i] > 0
    ]


def distinctive(candidates: list[Candidate], *, limit: int = TOP_TOPICS) -> list[Candidate]:
    """The top phrases that pass the thresholds, a word giving way to a pair it is mostly
    said in."""
    passing = [c for c in candidates if c.negative >= MIN_NEGATIVE_TEXTS and c.z >= MIN_Z]
    pairs = [c for c in passing if " " in c.key]
    chosen: list[Candidate] = []
    for c in passing:
        if " " not in c.key and any(
            c.key in pair.key.split(" ") and c.negative - pair.negative < PAIR_COVERS * c.negative
            for pair in pairs
        ):
            continue
        chosen.append(c)
        if len(chosen) == limit:
            break
    return chosen


@dataclass(frozen=True)
class ScoredText:
    pk: int
    text: str
    rating: float | None
    sentiment: float | None


def find_topics(
    texts: list[ScoredText], keys: list[set[str]], *, limit: int = TOP_TOPICS
) -> list[FoundTopic]:
    """The shop's distinctive negative phrases among `texts` (`keys[i]` the phrase keys of
    `texts[i]`), each with its most common wording and example quotes from the most negative
    texts."""
    negative: Counter[str] = Counter()
    positive: Counter[str] = Counter()
    for text, text_keys in zip(texts, keys, strict=True):
        side = polarity(text.rating, text.sentiment)
        if side < 0:
            negative.update(text_keys)
        elif side > 0:
            positive.update(text_keys)
    chosen = distinctive(log_odds_z(negative, positive), limit=limit)
    wanted = {c.key for c in chosen}
    wordings: dict[str, Counter[str]] = {key: Counter() for key in wanted}
    examples: dict[str, list[str]] = {key: [] for key in wanted}
    negatives = [
        (text, text_keys & wanted)
        for text, text_keys in zip(texts, keys, strict=True)
        if polarity(text.rating, text.sentiment) < 0 and text_keys & wanted
    ]
    # The most negative first: the clearest quotes.
    negatives.sort(key=lambda item: (_sort_value(item[0]), item[0].pk))
    for text, present in negatives:
        for key, surface in phrases(text.text):
            if key in present:
                wordings[key][surface] += 1
        for key in present:
            if len(examples[key]) < EXAMPLES:
                examples[key].append(quote(text.text, key))
    return [
        FoundTopic(
            key=c.key,
            label=wordings[c.key].most_common(1)[0][0] if wordings[c.key] else c.key,
            negative=c.negative,
            positive=c.positive,
            z=c.z,
            examples=examples[c.key],
        )
        for c in chosen
    ]


def _sort_value(text: ScoredText) -> float:
    if text.rating is not None:
        return text.rating * 2 - 1
    return text.sentiment if text.sentiment is not None else 0.0


def links(
    pks: Iterable[int], keys: Iterable[set[str]], topic_ids: dict[str, int]
) -> list[tuple[int, int]]:
    """(text id, topic id) for every topic whose key the text contains."""
    found: list[tuple[int, int]] = []
    known = topic_ids.keys()
    for pk, text_keys in zip(pks, keys, strict=True):
        found.extend((pk, topic_ids[key]) for key in text_keys & known)
    return found
