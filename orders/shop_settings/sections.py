"""Sections that other apps add to a tab of the settings area.

`orders` names no app above it (`tests/test_layers.py`), yet the integrations tab shows what the
messaging engine knows of its providers, and the profile tab the return address the returns
app keeps. So each tab holds a registry, as the order page does (`orders.dashboard.panels`),
and an app adds its section from its `AppConfig.ready()`:

    settings_section_register(SettingsSection(key="email", tab="integrations",
                                              template_name="notifications/settings/_email.html",
                                              context=email_integration_section, order=10))

A section's `context` reads what its template shows for one shop (through its app's
selectors); a form in it posts to its own app's view, which changes things through its own
service and records the change in the settings area's log (`audit.settings_change_record`).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orders.models import Shop


@dataclass(frozen=True)
class SettingsSection:
    key: str
    # The tab that shows it: the `tab` of a settings view ("integrations", "profile").
    tab: str
    template_name: str
    # The section's template context for one shop; it runs on every view of the tab, so it
    # should cost a fixed number of queries and call no provider.
    context: Callable[[Shop], Mapping[str, Any]]
    # Lower comes first; leave gaps (10, 20, …) so a new section can go between two.
    order: int = 100


@dataclass(frozen=True)
class RenderedSection:
    """What a tab includes: a section's template with its context for this shop."""

    key: str
    template_name: str
    context: Mapping[str, Any]


_sections: dict[tuple[str, str], SettingsSection] = {}


def settings_section_register(section: SettingsSection) -> None:
    """Add (or, by the same tab and key, replace) a section of a settings tab."""
    _sections[(section.tab, section.key)] = section


def settings_sections_for(*, tab: str, shop: Shop) -> list[RenderedSection]:
    sections = sorted(
        (s for s in _sections.values() if s.tab == tab), key=lambda s: (s.order, s.key)
    )
    return [RenderedSection(s.key, s.template_name, s.context(shop)) for s in sections]
