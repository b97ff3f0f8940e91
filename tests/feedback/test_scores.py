"""What counts as a score in a customer's text."""

import pytest

from feedback.surveys.scores import score_parse


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("9", 9),
        (" 9 ", 9),
        ("nine", 9),
        ("9/10", 9),
        ("10!", 10),
        ("Ten", 10),
        ("0", 0),
        ("9 out of 10", 9),
        ("8.", 8),
        ("NINE!!", 9),
    ],
)
def test_a_score_written_in_any_usual_way_counts(text, score):
    assert score_parse(text, low=0, high=10) == score


@pytest.mark.parametrize(
    "text", ["maybe", "11", "", "   ", "-1", "9 it was late", "9/5", "1 0", "910", "yes"]
)
def test_anything_else_is_not_a_score(text):
    assert score_parse(text, low=0, high=10) is None


def test_the_scale_is_the_surveys():
    assert score_parse("4/5", low=1, high=5) == 4
    assert score_parse("0", low=1, high=5) is None
    assert score_parse("6", low=1, high=5) is None
    assert score_parse("7", low=1, high=7) == 7
