from typing import Any

from django.http import HttpRequest

from postpurchase.shell.nav import nav_sections_allowed
from postpurchase.shell.shops import shop_directory


def dashboard(request: HttpRequest) -> dict[str, Any]:
    """What the dashboard's layout draws: the current shop, the shops to switch to, the
    navigation the staff member's role may open, and what that role may do (pages show only
    the buttons it can use). All set by `StaffPermissionMixin`; outside the dashboard, nothing
    is read."""
    shop = getattr(request, "shop", None)
    staff_may = getattr(request, "staff_may", None)
    context: dict[str, Any] = {"current_shop": shop, "staff_may": staff_may}
    if shop is None or not request.path.startswith("/dashboard/"):
        return context
    context["staff_shops"] = list(shop_directory().staff_shops(request.user))
    context["nav_sections"] = nav_sections_allowed(staff_may)
    return context
