"""The content rules a review must meet to be published at once, and nothing else.

The FTC rule on consumer reviews (16 CFR Part 465) forbids suppressing reviews for being
negative. So every rule here reads what the author wrote and the photos staff flagged, and
nothing else: `ReviewContent` has no rating, so no rule can read one, and a 1★ review and a 5★
review with the same words get the same decision. A review that breaks no rule is published;
one that breaks a rule is held for a person, who publishes or rejects it for one of these same
rules (`ReviewRule`).

Rules: profanity (a short word list shipped in `data/profanity.txt`), personal data (an
email address, a phone number, a street address), spam (links, long runs of one character, one
word repeated over and over), off-topic (too short to say anything, or gibberish), and a photo
staff flagged as not showing the product."""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from feedback.models import ReviewRule

_PROFANITY_FILE = Path(__file__).parent / "data" / "profanity.txt"
# Fewer letters than this, or fewer words, says nothing about the product.
MIN_LETTERS = 12
MIN_WORDS = 3
# Letters undone before the word list is consulted: "sh1t", "@ss", "f*ck" is not.
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits, spaces, dots, dashes and brackets that holds 9 to 15 digits in at most five
# groups, one of at least three: a phone number however it is written ("+1 (555) 010-2000",
# "0151 234 5678"); sizes ("10 12 14 16"), dates and prices do not.
_PHONE = re.compile(r"(?<!\w)\+?[\d(][\d\s().-]{6,22}\d(?!\w)")
_DIGIT_GROUP = re.compile(r"\d+")
_STREET = re.compile(
    r"\b\d{1,5}[a-z]?\s+(?:[a-zà-ÿ'.-]+\s+){0,3}"
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|crescent|close|square|sq|highway|hwy)\b\.?",
    re.IGNORECASE,
)
_STRASSE = re.compile(r"\b[a-zà-ÿ-]+(?:straße|strasse|weg|gasse|allee|platz)\s+\d{1,4}\b", re.I)
_LINK = re.compile(
    r"https?://|\bwww\.|\b[\w-]+\.(?:com|net|org|io|co|info|biz|ru|cn|xyz|top|shop|store|ly)\b",
    re.IGNORECASE,
)
_RUN = re.compile(r"(\S)\1{5,}")  # one character six times or more: "!!!!!!", "sooooooo"
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_VOWELS = set("aeiouyàáâäãåèéêëìíîïòóôöõùúûüýÿæœø")


@dataclass(frozen=True)
class ReviewContent:
    """What the rules may read: the words and the photos' flags. No rating, by design."""

    title: str
    body: str
    flagged_photos: int = 0


@dataclass(frozen=True)
class RuleHit:
    rule: str  # a ReviewRule value
    detail: str  # what matched, said for staff ("an email address"), never the data itself


@cache
def profanity_words() -> frozenset[str]:
    lines = _PROFANITY_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _profanity(text: str) -> list[RuleHit]:
    words = set(re.findall(r"[\w@$]+", text.lower().translate(_LEET)))
    found = sorted(words & profanity_words())
    if not found:
        return []
    return [RuleHit(ReviewRule.PROFANITY, f"a word on the profanity list ({len(found)})")]


def _is_phone_number(candidate: str) -> bool:
    groups = _DIGIT_GROUP.findall(candidate)
    digits = sum(len(group) for group in groups)
    return 9 <= digits <= 15 and len(groups) <= 5 and max(len(group) for group in groups) >= 3


def _personal_data(text: str) -> list[RuleHit]:
    hits = []
    if _EMAIL.search(text):
        hits.append(RuleHit(ReviewRule.PERSONAL_DATA, "an email address"))
    without_emails = _EMAIL.sub(" ", text)
    if any(_is_phone_number(m.group(0)) for m in _PHONE.finditer(without_emails)):
        hits.append(RuleHit(ReviewRule.PERSONAL_DATA, "a phone number"))
    if _STREET.search(text) or _STRASSE.search(text):
        hits.append(RuleHit(ReviewRule.PERSONAL_DATA, "a street address"))
    return hits


def _spam(text: str) -> list[RuleHit]:
    hits = []
    # An email address is personal data, not a link: looked for without them.
    if _LINK.search(_EMAIL.sub(" ", text)):
        hits.append(RuleHit(ReviewRule.SPAM, "a link"))
    if _RUN.search(text):
        hits.append(RuleHit(ReviewRule.SPAM, "one character repeated many times"))
    words = [w.lower() for w in _WORD.findall(text)]
    if any(len(set(words[i : i + 4])) == 1 for i in range(len(words) - 3)):
        hits.append(RuleHit(ReviewRule.SPAM, "one word repeated many times"))
    return hits


def _is_gibberish(words: list[str]) -> bool:
    """Mostly words no language writes: long runs without a vowel ("asdfghjkl", "qwrtzp")."""
    long_words = [w.lower() for w in words if len(w) >= 5]
    if not long_words:
        return False
    unreadable = [w for w in long_words if not (set(w) & _VOWELS) or len(w) > 30]
    return len(unreadable) * 2 >= len(long_words)


def _off_topic(body: str) -> list[RuleHit]:
    words = _WORD.findall(body)
    if len(words) < MIN_WORDS or sum(len(w) for w in words) < MIN_LETTERS:
        return [RuleHit(ReviewRule.OFF_TOPIC, "too short to say anything about the product")]
    if _is_gibberish(words):
        return [RuleHit(ReviewRule.OFF_TOPIC, "mostly unreadable words")]
    return []


def _photos(flagged: int) -> list[RuleHit]:
    if not flagged:
        return []
    return [RuleHit(ReviewRule.PHOTO_NOT_PRODUCT, f"{flagged} photo(s) flagged by staff")]


def review_rule_hits(content: ReviewContent) -> list[RuleHit]:
    """Every rule the content breaks, in the order of `ReviewRule`; none: publish it."""
    text = f"{content.title}\n{content.body}"
    return [
        *_profanity(text),
        *_personal_data(text),
        *_spam(text),
        *_off_topic(content.body),
        *_photos(content.flagged_photos),
    ]
