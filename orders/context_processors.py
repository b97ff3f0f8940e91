from django.http import HttpRequest

from orders.tenancy import staff_shops


def current_shop(request: HttpRequest) -> dict:
    shop = getattr(request, "shop", None)
    if shop is None or not request.path.startswith("/dashboard/"):
        return {"current_shop": shop}
    return {"current_shop": shop, "staff_shops": list(staff_shops(request.user))}
