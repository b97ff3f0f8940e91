"""The dashboard's navigation and breadcrumbs.

Each app adds its own sections from its `AppConfig.ready()`:

    nav_register(NavSection(key="returns", label="Returns", url_name="returns_dashboard:queue",
                            order=30, permission=permissions.DASHBOARD_VIEW))

and its views say which section they belong to (`DashboardView.nav_section`); the layout lists
the sections the staff member's role may see, in `order`, marking the current one.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from postpurchase import permissions


@dataclass(frozen=True)
class NavSection:
    # What views name in `nav_section`, to be marked as the current section.
    key: str
    label: str
    url_name: str
    # Lower comes first; leave gaps (10, 20, …) so a new section can go between two.
    order: int
    # The policy's action a staff member needs to see the entry.
    permission: str = permissions.DASHBOARD_VIEW
    # A name from the stylesheet's icon set, or none.
    icon: str = ""


_sections: dict[str, NavSection] = {}


def nav_register(section: NavSection) -> None:
    """Add (or, by the same key, replace) a section of the dashboard's navigation."""
    permissions.rule_for(section.permission)  # an unknown action is a mistake: say so now
    _sections[section.key] = section


def nav_sections() -> list[NavSection]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.key))


def nav_sections_allowed(allowed: Mapping[str, bool] | None) -> list[NavSection]:
    """The sections a staff member may open, given what their role allows; none without."""
    if allowed is None:
        return []
    return [section for section in nav_sections() if allowed[section.permission]]


@dataclass(frozen=True)
class Crumb:
    """One step of a page's breadcrumb trail; the last, the page itself, has no link."""

    label: str
    url: str = ""
