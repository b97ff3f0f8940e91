"""Sentiment and topics of what customers write: 100,000 synthetic texts scored and
topic-linked by the nightly round (`feedback.analysis.services.shop_texts_analyse`), timed.

The texts are made from word lists with a fixed seed, in the mix a shop sees: reviews with
stars (mostly 5★, a tail of 1★), survey answers with an NPS score, text messages and
tracking-page problem reports (no rating), each a sentence or three of praise, complaint or
neither, with details that make most texts distinct. They are stored unscored (as a backfill
stores them; not timed), then the round runs in one process as the nightly task runs it:
train the shop's model on its rated texts and compare it with VADER on held-out texts,
score every text with the winner (in batches, one UPDATE per batch), find the topics and link
every text to them. Then, for scale, VADER alone over the same texts, and the cost of
`record_text` (what a request pays) measured over a few hundred calls.

    python bench/analysis.py                 # its own database, created and dropped
    python bench/analysis.py --texts 20000   # fewer texts
    python bench/analysis.py --database-url postgres://…/db   # an existing migrated database

`bench/run.py` calls `measure` on its own database; its figure is one of the report's targets.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack

TARGET_S = 60.0
TEXTS = 100_000
SEED = 20261206
STANDALONE_DB = "pp_bench_analysis"
RECORD_CALLS = 300


@dataclass
class Analysis:
    texts: int
    seconds: float | None = None  # the nightly round, all steps
    steps: dict[str, float] = field(default_factory=dict)
    insert_seconds: float = 0.0
    mix: dict[str, int] = field(default_factory=dict)
    rated_texts: int = 0
    training: str = ""
    scorer: str = ""
    model_auc: float | None = None
    vader_auc: float | None = None
    rescored: int = 0
    linked_texts: int = 0
    links: int = 0
    topics: list[str] = field(default_factory=list)
    vader_seconds: float | None = None
    record_text_p50_ms: float | None = None
    record_text_p99_ms: float | None = None
    # The machine's 1-minute load average around the timed round: the cores are shared.
    load_before: float | None = None
    load_after: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return self.seconds is not None and self.rescored == self.texts and not self.errors


# --- the texts ------------------------------------------------------------------------------

_PRODUCTS = ["mug", "bottle", "jacket", "backpack", "shoes", "lamp", "kettle", "scarf", "watch"]
_PARTS = ["lid", "strap", "zip", "handle", "sole", "seam", "button", "cable", "buckle"]
_DEFECTS = ["leaks", "snapped", "broke", "cracked", "came loose", "stopped working", "is stuck"]
_PEOPLE = ["mum", "dad", "sister", "son", "daughter", "partner", "friend", "boss"]
_COMPLAINTS = [
    "the {part} {defect}",
    "the {part} {defect} after a week",
    "arrived late",
    "it came {days} days late",
    "late again, nobody told me",
    "the size runs small",
    "size too small, had to send it back",
    "the {product} was damaged in the box",
    "wrong colour sent",
    "my refund is still not processed",
    "nobody answered my email",
    "it smells of plastic",
    "tracking never updated",
    "the parcel was left in the rain",
    "cheap material, feels flimsy",
    "the leaking lid ruined my bag",
]
_PRAISE = [
    "love the {product}",
    "great quality",
    "fast delivery",
    "fits perfectly",
    "the {part} feels solid",
    "arrived early",
    "beautifully packed",
    "my {person} loves it",
    "exactly as pictured",
    "great customer service",
    "best {product} I have owned",
    "super comfortable",
]
_NEUTRAL = ["it is ok", "does the job", "as expected", "fine for the price", "average {product}"]
_DETAILS = [
    "I ordered it for my {person}",
    "bought it on sale",
    "my {n}th order from you",
    "used it for {n} days",
    "ordered on a {day}",
    "",
    "",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_REPLIES = [
    "where is my parcel",
    "thanks",
    "when will it arrive",
    "can I change my address to {n} High Street",
    "ok thanks, got it",
    "still waiting for my {product}",
    "the {product} arrived broken, what now",
    "great, thank you so much",
]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        part=rng.choice(_PARTS),
        defect=rng.choice(_DEFECTS),
        product=rng.choice(_PRODUCTS),
        person=rng.choice(_PEOPLE),
        days=rng.randint(2, 14),
        n=rng.randint(2, 90),
        day=rng.choice(_DAYS),
    )


def _text(rng: random.Random, side: int) -> str:
    """A text of one to three sentences: side 1 praise, -1 complaint, 0 mixed or neither."""
    if side > 0:
        pool = [_PRAISE] * 2
    elif side < 0:
        pool = [_COMPLAINTS] * 2
    else:
        pool = [_NEUTRAL, rng.choice([_PRAISE, _COMPLAINTS])]
    sentences = [_fill(rng.choice(p), rng) for p in pool[: rng.randint(1, 2)]]
    sentences.append(_fill(rng.choice(_DETAILS), rng))
    text = ". ".join(s[0].upper() + s[1:] for s in sentences if s)
    return text + rng.choice([".", "!", ".", ""])


def _stars(rng: random.Random) -> int:
    return rng.choices([5, 4, 3, 2, 1], weights=[55, 20, 8, 6, 11])[0]


def synthetic_texts(n: int, seed: int = SEED) -> list[tuple[str, str, float | None]]:
    """(source, text, rating 0..1 or None): 40% reviews, 30% survey answers, 20% text
    messages, 10% problem reports."""
    rng = random.Random(seed)
    found: list[tuple[str, str, float | None]] = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.4:
            stars = _stars(rng)
            side = 1 if stars >= 4 else -1 if stars <= 2 else 0
            found.append(("review", _text(rng, side), (stars - 1) / 4))
        elif kind < 0.7:
            score = rng.choices(range(11), weights=[3, 1, 1, 2, 2, 3, 5, 8, 14, 25, 36])[0]
            side = 1 if score >= 9 else -1 if score <= 6 else 0
            found.append(("survey_answer", _text(rng, side), score / 10))
        elif kind < 0.9:
            found.append(("inbound_reply", _fill(rng.choice(_REPLIES), rng), None))
        else:
            found.append(("problem_report", _text(rng, -1), None))
    return found


# --- the probe: one process with Django, on a migrated database -------------------------


def _probe(n: int) -> dict:
    import django

    django.setup()
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from feedback.analysis.scoring import vader
    from feedback.analysis.services import (
        PendingText,
        record_text,
        record_texts_pending,
        shop_texts_analyse,
    )
    from feedback.models import AnalysedText, ShopSentimentModel, Topic
    from orders.models import Shop

    shop, _ = Shop.objects.get_or_create(
        slug="bench-analysis",
        defaults={"name": "Bench analysis", "domain": "bench-analysis.example", "currency": "USD"},
    )
    # What an earlier run on a kept database left: this run starts from nothing.
    for model in (AnalysedText, Topic, ShopSentimentModel):
        model.objects.filter(shop=shop).delete()
    texts = synthetic_texts(n)
    now = timezone.now()
    result = Analysis(texts=n)
    for source, *_ in texts:
        result.mix[source] = result.mix.get(source, 0) + 1
    result.rated_texts = sum(1 for _s, _t, r in texts if r is not None)
    clock = time.perf_counter()
    record_texts_pending(
        shop=shop,
        texts=[
            PendingText(
                source=source,
                source_id=i + 1,
                text=text,
                rating=rating,
                # Spread over the last 80 days: all within the topics' window.
                written_at=now - timedelta(minutes=(i * 80 * 24 * 60) // n + 1),
            )
            for i, (source, text, rating) in enumerate(texts)
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE feedback_analysedtext")
    result.insert_seconds = time.perf_counter() - clock

    result.load_before = os.getloadavg()[0]
    clock = time.perf_counter()
    report = shop_texts_analyse(shop_id=shop.pk).as_dict()
    result.seconds = time.perf_counter() - clock
    result.load_after = os.getloadavg()[0]
    result.steps = dict(report["seconds"])  # type: ignore[call-overload]
    result.training = str(report["training"])
    result.scorer = str(report["scorer"])
    result.model_auc = report["model_auc"]  # type: ignore[assignment]
    result.vader_auc = report["vader_auc"]  # type: ignore[assignment]
    result.rescored = int(report["rescored"])  # type: ignore[call-overload]
    result.linked_texts = int(report["texts_in_window"])  # type: ignore[call-overload]
    result.links = int(report["links"])  # type: ignore[call-overload]
    result.topics = list(report["topics"])  # type: ignore[call-overload]

    clock = time.perf_counter()
    vader.score([text for _s, text, _r in texts])
    result.vader_seconds = time.perf_counter() - clock

    rng = random.Random(SEED + 1)
    timings = []
    for i in range(RECORD_CALLS):
        text = _text(rng, rng.choice([-1, 0, 1]))
        started = time.perf_counter()
        record_text(shop=shop, source="case_message", source_id=i + 1, text=text)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    result.record_text_p50_ms = timings[len(timings) // 2]
    result.record_text_p99_ms = timings[int(len(timings) * 0.99) - 1]
    AnalysedText.objects.filter(shop=shop).delete()
    return asdict(result)


# --- running it -----------------------------------------------------------------------------


def measure(*, texts: int = TEXTS, database_url: str = stack.DATABASE_URL) -> Analysis:
    """The probe in its own process, with production settings, on `database_url`."""
    print(f"text analysis: {texts:,} texts, the nightly round ...", flush=True)
    env = {**stack.production_env(), "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, __file__, "--probe", "--texts", str(texts)],
        cwd=stack.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        return Analysis(texts=texts, errors=[(done.stderr or done.stdout)[-2000:]])
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Analysis(**data)


# --- the report's parts ---------------------------------------------------------------------


def target(a: Analysis) -> tuple[str, str, str, str]:
    what = f"sentiment and topics for {a.texts:,} texts (nightly round)"
    goal = f"< {TARGET_S:.0f} s"
    if a.seconds is None:
        return what, goal, "not measured: " + "; ".join(e[-200:] for e in a.errors), "FALL SHORT"
    if not a.is_complete:
        return what, goal, f"{a.seconds:.1f} s, {a.rescored:,} scored", "FALL SHORT"
    return what, goal, f"{a.seconds:.1f} s", "PASS" if a.seconds < TARGET_S else "FALL SHORT"


def console(a: Analysis) -> list[str]:
    if a.seconds is None:
        return [f"text analysis: failed: {a.errors[:1]}"]
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in a.steps.items())
    vader_s = f"{a.vader_seconds:.1f}" if a.vader_seconds is not None else "-"
    return [
        f"text analysis: {a.texts:,} texts in {a.seconds:.1f} s ({steps}); scorer {a.scorer} "
        f"(model AUC {a.model_auc}, VADER AUC {a.vader_auc}); {a.links:,} links, "
        f"{len(a.topics)} topics",
        f"  VADER alone over the same texts: {vader_s} s; record_text p50 "
        f"{a.record_text_p50_ms:.1f} ms, p99 {a.record_text_p99_ms:.1f} ms; load average "
        f"{a.load_before:.1f} before the round, {a.load_after:.1f} after",
    ]


def section(a: Analysis) -> list[str]:
    if a.seconds is None:
        return ["### Text analysis", "", "Not measured: " + "; ".join(a.errors)[:500]]
    s = a.steps
    return [
        "### Text analysis (sentiment and topics)",
        "",
        "| texts | nightly round | train and compare | score | topics and links | "
        "scorer chosen | model AUC | VADER AUC | links | VADER alone | `record_text` p50 / p99 |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
        f"| {a.texts:,} | **{a.seconds:.1f} s** | {s.get('train', 0):.1f} s | "
        f"{s.get('score', 0):.1f} s | {s.get('topics', 0):.1f} s | {a.scorer} | "
        f"{a.model_auc if a.model_auc is not None else '-'} | "
        f"{a.vader_auc if a.vader_auc is not None else '-'} | {a.links:,} | "
        f"{a.vader_seconds or 0:.1f} s | {a.record_text_p50_ms or 0:.1f} / "
        f"{a.record_text_p99_ms or 0:.1f} ms |",
        "",
        f"Topics found (keys): {', '.join(f'`{t}`' for t in a.topics[:12])}"
        f"{' …' if len(a.topics) > 12 else ''}. Load average (1 min) when the round started: "
        f"{a.load_before:.2f}, when it ended: {a.load_after:.2f}.",
    ]


def method(a: Analysis) -> list[str]:
    mix = ", ".join(f"{n:,} {k.replace('_', ' ')}s" for k, n in sorted(a.mix.items()))
    return [
        f"- **Text analysis.** `bench/analysis.py`, in one process with production settings: "
        f"{a.texts:,} synthetic texts from word lists (fixed seed; {mix}; {a.rated_texts:,} "
        "with a rating) are stored unscored for one shop, spread over 80 days "
        f"({a.insert_seconds:.1f} s, not timed), then `shop_texts_analyse`, the nightly task's "
        "service, is timed: train the shop's TF-IDF + logistic regression model on its rated "
        "texts (at most the latest 50,000) and compare its ROC AUC with VADER's on a held-out "
        "quarter, score every text with the winner (5,000 per batch, one UPDATE each), find "
        "the distinctive negative phrases among the texts and link every text to the shop's "
        "topics (one DELETE and one INSERT). VADER alone over the same texts (pure Python, "
        "one process) and the cost of one `record_text` call (a request's share: score, upsert, "
        f"topic links; {RECORD_CALLS} calls) are measured after it.",
    ]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=TEXTS)
    parser.add_argument("--database-url", default="", help="an existing migrated database")
    parser.add_argument("--keep-db", action="store_true", help=f"keep {STANDALONE_DB}")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.probe:
        print(json.dumps(_probe(args.texts)))
        return 0
    with stack.standalone_database(
        STANDALONE_DB, args.database_url, keep=args.keep_db
    ) as database_url:
        result = measure(texts=args.texts, database_url=database_url)
    print("\n".join(console(result)))
    what, goal, measured, verdict = target(result)
    print(f"{what}: goal {goal}, measured {measured}: {verdict}")
    for error in result.errors:
        print(error)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.exit(main())
