from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orders.models.orders import FINANCIAL_STATUS_TONES, ORDER_STATUS_TONES
        from orders.models.shipments import SHIPMENT_STATUS_TONES
        from postpurchase import status_tones

        status_tones.register("order", ORDER_STATUS_TONES)
        status_tones.register("shipment", SHIPMENT_STATUS_TONES)
        status_tones.register("payment", FINANCIAL_STATUS_TONES)
        from orders import messages, tenancy

        # Each provider module registers its webhook processor on import.
        from orders.ingest import easypost, shopify  # noqa: F401
        from orders.shop_settings.integrations import integration_sections_register
        from orders.tracking import invalidation  # noqa: F401  (connects its receivers)
        from postpurchase import message_kinds, permissions
        from postpurchase.shell.nav import NavSection, nav_register
        from postpurchase.shell.shops import ShopDirectory, shop_directory_register

        # Shops are ours: the dashboard shell finds the staff member's through us.
        shop_directory_register(
            ShopDirectory(current_shop=tenancy.current_shop, staff_shops=tenancy.staff_shops)
        )
        nav_register(
            NavSection(key="overview", label="Overview", url_name="dashboard:home", order=10)
        )
        nav_register(
            NavSection(key="orders", label="Orders", url_name="dashboard:order_list", order=20)
        )
        nav_register(
            NavSection(
                key="settings",
                label="Settings",
                url_name="shop_settings:home",
                order=90,
                permission=permissions.SETTINGS_VIEW,
            )
        )
        integration_sections_register()
        # What this app's events owe the customer: the confirmation and the parcels' updates,
        # declared in the kernel's terms for the messaging engine, which this app never imports.
        message_kinds.register(messages.KINDS, app=self.name)
