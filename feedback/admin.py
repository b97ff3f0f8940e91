"""Ops' admin of feedback, one module per sub-domain (registered on import)."""

from feedback.analysis import admin as analysis_admin  # noqa: F401
from feedback.cases import admin as cases_admin  # noqa: F401
from feedback.reviews import admin as reviews_admin  # noqa: F401
from feedback.surveys import admin as surveys_admin  # noqa: F401
