from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class KernelConfig(AppConfig):
    name = "postpurchase"
    verbose_name = "Kernel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each app declares the events it publishes in its own `events.py`; importing them all
        # here, before any later app's ready() subscribes, lets a subscriber name an event of
        # an app above it without importing that app (as admin finds `admin.py` modules).
        autodiscover_modules("events")
