"""Words and phrases of a customer's text, normalised so that variants of one phrase meet.

A phrase's key is what groups texts into a topic: lowercased, lightly stemmed (plural and
-ing/-ed endings stripped, so "leaking lids", "lid leaks" and "leaked lid" meet), stopwords
left out, and the two words of a pair in alphabetical order. Its surface form (the words as
written) names the topic when it is first found."""

import re
from collections.abc import Iterator
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Clauses: a phrase never spans a full stop or a comma.
_CLAUSES = re.compile(r"[.!?;,:()\n\r\"]+")
_WORD = re.compile(r"[^\W\d_]+")
# Negations matter in a pair ("not fit") and say nothing alone.
NEGATIONS = frozenset({"not", "no", "never", "nothing"})
# Words that carry the topic in a product's world but are on the generic list.
_KEEP = frozenset({"bottom", "top", "fill", "full", "empty", "fire", "front", "back", "side"})
STOPWORDS = (ENGLISH_STOP_WORDS - NEGATIONS - _KEEP) | {
    "ca",  # "can't" → "ca not"
    "wo",  # "won't" → "wo not"
    "im",
    "ive",
    "just",
    "really",
    "got",
    "did",
    "does",
    "get",
}
_DOUBLES_KEPT = frozenset("lsz")
_VOWELS = frozenset("aeiouy")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light stem: "lids" → "lid", "batteries" → "battery", "leaking"/"leaked"/"leaks" →
    "leak", "boxes" → "box", "sizes"/"size" → "siz". Not a dictionary lemma: it only has to
    send the usual variants of a word to one key."""
    w = word
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    elif w.endswith("ing") and len(w) >= 6 and _VOWELS & set(w[:-3]):
        w = w[:-3]
    elif w.endswith("ed") and not w.endswith("eed") and len(w) >= 5 and _VOWELS & set(w[:-2]):
        w = w[:-2]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in _VOWELS and w[-1] not in _DOUBLES_KEPT:
        w = w[:-1]
    return w


def _words(clause: str) -> list[str]:
    return _WORD.findall(clause)


def normalise(text: str) -> str:
    return text.lower().replace("n't", " not").replace("n’t", " not").replace("'", "")


def phrases(text: str) -> Iterator[tuple[str, str]]:
    """Each word and each pair of neighbouring words of the text as (key, surface), in
    order, repeats included. Stopwords are left out before pairing, so "the lid is leaking"
    gives the pair "lid leaking"."""
    for clause in _CLAUSES.split(normalise(text)):
        words = [w for w in _words(clause) if len(w) > 1 and w not in STOPWORDS]
        stems = [stem(w) for w in words]
        for i, (word, key) in enumerate(zip(words, stems, strict=True)):
            if word not in NEGATIONS:
                yield key, word
            if i + 1 < len(words) and not (word in NEGATIONS and words[i + 1] in NEGATIONS):
                nxt = stems[i + 1]
                pair = f"{key} {nxt}" if key <= nxt else f"{nxt} {key}"
                yield pair, f"{word} {words[i + 1]}"


def phrase_keys(text: str) -> set[str]:
    """The distinct keys of the text's words and pairs."""
    return {key for key, _surface in phrases(text)}


_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
QUOTE_MAX_LENGTH = 200


def quote(text: str, key: str) -> str:
    """The sentence of the text that mentions the phrase (the text's start when none
    does), shortened to QUOTE_MAX_LENGTH characters."""
    chosen = text.strip()
    for sentence in _SENTENCES.split(text):
        if key in phrase_keys(sentence):
            chosen = sentence.strip()
            break
    if len(chosen) > QUOTE_MAX_LENGTH:
        chosen = chosen[: QUOTE_MAX_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return chosen
