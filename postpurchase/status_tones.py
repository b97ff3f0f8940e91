"""Which of the five chip tones a status wears, as each app declares for its own statuses.

The kernel knows the tones, never the statuses: an app keeps its mapping next to its status
labels (`orders/models.py`'s `ORDER_STATUS_TONES`, …) and registers it from its
`AppConfig.ready()`, as it registers its navigation section. A status nobody mapped is neutral.
"""

from collections.abc import Mapping

SUCCESS = "success"
ATTENTION = "attention"
CRITICAL = "critical"
INFO = "info"
NEUTRAL = "neutral"
TONES = (SUCCESS, ATTENTION, CRITICAL, INFO, NEUTRAL)

_registry: dict[str, dict[str, str]] = {}


def register(kind: str, tones: Mapping[str, str]) -> None:
    """`register("order", {"delivered": SUCCESS, …})`: the tone of each of a kind's statuses."""
    unknown = set(tones.values()) - set(TONES)
    if unknown:
        raise ValueError(f"{kind}: unknown tone(s) {sorted(unknown)}; use one of {TONES}")
    _registry[kind] = {str(status): tone for status, tone in tones.items()}


def tone(kind: str, status: str) -> str:
    return _registry.get(kind, {}).get(str(status), NEUTRAL)


def registered_kinds() -> tuple[str, ...]:
    return tuple(sorted(_registry))
