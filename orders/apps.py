from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each provider module registers its webhook processor on import.
        from orders.ingest import easypost, shopify  # noqa: F401
        from orders.tracking import invalidation  # noqa: F401  (connects its receivers)
