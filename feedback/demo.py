"""The demo shop's feedback, found by `seed_demo` (`autodiscover_modules("demo")`): each part
adds its own year (surveys and answers, reviews, follow-up cases) when it is imported."""

from feedback.cases import demo as cases_demo  # noqa: F401
from feedback.numbers import demo as numbers_demo  # noqa: F401
from feedback.reviews import demo as reviews_demo  # noqa: F401
from feedback.surveys import demo as surveys_demo  # noqa: F401
