"""The feedback app's models, one module per sub-domain, re-exported here."""

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

__all__ = [
    "REVIEW_TRANSITIONS",
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
]
