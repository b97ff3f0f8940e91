"""The feedback app's models, one module per sub-domain, re-exported here."""

from feedback.models.analysis import (
    AnalysedText,
    ShopSentimentModel,
    TextSource,
    Topic,
)
from feedback.models.surveys import (
    SCALES,
    SURVEY_REQUEST_TRANSITIONS,
    SurveyAnswer,
    SurveyKind,
    SurveyRequest,
    SurveyRequestStatus,
    SurveySettings,
)

__all__ = [
    "SCALES",
    "SURVEY_REQUEST_TRANSITIONS",
    "AnalysedText",
    "ShopSentimentModel",
    "SurveyAnswer",
    "SurveyKind",
    "SurveyRequest",
    "SurveyRequestStatus",
    "SurveySettings",
    "TextSource",
    "Topic",
]
