"""The feedback app's models, one module per part (the merge adds surveys, reviews and text
analysis next to cases)."""

from feedback.models.cases import (
    CASE_TRANSITIONS,
    OPEN_CASE_STATES,
    Case,
    CaseEvent,
    CaseMessage,
    CasePolicy,
    CasePriority,
    CaseResolution,
    CaseSource,
    CaseStatus,
    MessageDirection,
    ResolutionKind,
    ThreadChannel,
)

__all__ = [
    "CASE_TRANSITIONS",
    "OPEN_CASE_STATES",
    "Case",
    "CaseEvent",
    "CaseMessage",
    "CasePolicy",
    "CasePriority",
    "CaseResolution",
    "CaseSource",
    "CaseStatus",
    "MessageDirection",
    "ResolutionKind",
    "ThreadChannel",
]
