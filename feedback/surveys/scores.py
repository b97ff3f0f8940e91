"""Reading a score from what a customer typed: "9", " 9 ", "nine", "9/10", "10!", "Ten",
"9 out of 10". Only a text that is a score and nothing else counts: "9 it was late" or "maybe"
is not one (the customer is asked once more for just a number)."""

import re

_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_SCORE = re.compile(
    r"^(?P<score>\d{1,2}|" + "|".join(_WORDS) + r")"
    r"(?:\s*(?:/|out of|of)\s*(?P<out_of>\d{1,2}|" + "|".join(_WORDS) + r"))?"
    r"[\s!.?]*$"
)


def _number(token: str) -> int:
    return _WORDS[token] if token in _WORDS else int(token)


def score_parse(text: str, *, low: int, high: int) -> int | None:
    """The score `text` gives on a scale from `low` to `high`, or None when it gives none (not
    a number, out of the scale, or "out of" another scale than this one)."""
    found = _SCORE.match(" ".join(text.lower().split()))
    if found is None:
        return None
    score = _number(found["score"])
    if found["out_of"] is not None and _number(found["out_of"]) != high:
        return None
    return score if low <= score <= high else None
