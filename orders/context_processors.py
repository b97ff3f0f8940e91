from django.http import HttpRequest

from orders.tenancy import staff_shops


def current_shop(request: HttpRequest) -> dict:
    shop = getattr(request, "shop", None)
    # What the staff member may do in the shop (set by `StaffPermissionMixin`): pages show
    # only the buttons their role can use.
    staff_may = getattr(request, "staff_may", None)
    if shop is None or not request.path.startswith("/dashboard/"):
        return {"current_shop": shop, "staff_may": staff_may}
    return {
        "current_shop": shop,
        "staff_shops": list(staff_shops(request.user)),
        "staff_may": staff_may,
    }
