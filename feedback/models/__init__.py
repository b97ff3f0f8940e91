from feedback.models.analysis import (
    AnalysedText,
    ShopSentimentModel,
    TextSource,
    Topic,
)

__all__ = [
    "AnalysedText",
    "ShopSentimentModel",
    "TextSource",
    "Topic",
]
