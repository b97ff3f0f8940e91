"""The feedback app's models, one module per sub-domain, re-exported here."""

from feedback.models.analysis import (
    AnalysedText,
    ShopSentimentModel,
    TextSource,
    Topic,
)
from feedback.models.reviews import (
    REVIEW_TRANSITIONS,
    CollectionMethod,
    IncentiveKind,
    Review,
    ReviewEvent,
    ReviewIncentive,
    ReviewPhoto,
    ReviewReply,
    ReviewReplyRevision,
    ReviewRevision,
    ReviewRule,
    ReviewStatus,
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
    "REVIEW_TRANSITIONS",
    "SCALES",
    "SURVEY_REQUEST_TRANSITIONS",
    "AnalysedText",
    "CollectionMethod",
    "IncentiveKind",
    "Review",
    "ReviewEvent",
    "ReviewIncentive",
    "ReviewPhoto",
    "ReviewReply",
    "ReviewReplyRevision",
    "ReviewRevision",
    "ReviewRule",
    "ReviewStatus",
    "ShopSentimentModel",
    "SurveyAnswer",
    "SurveyKind",
    "SurveyRequest",
    "SurveyRequestStatus",
    "SurveySettings",
    "TextSource",
    "Topic",
]
