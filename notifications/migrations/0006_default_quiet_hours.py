"""The quiet hours every installation starts with; ops edit them in admin."""

from datetime import time

from django.db import migrations

# 08:00–21:00 everywhere (TCPA's federal window is 08:00–21:00); stricter US state laws on
# marketing texts (Florida's FTSA and the states that copied it) allow 08:00–20:00 only.
DEFAULT_RULES = [
    ("", "", time(8), time(21), "Default: texts only between 08:00 and 21:00 local time"),
    *(
        ("US", state, time(8), time(20), f"{state} state law: 08:00–20:00")
        for state in ("FL", "MD", "MS", "OK", "WA")
    ),
]


def add_rules(apps, schema_editor):
    QuietHoursRule = apps.get_model("notifications", "QuietHoursRule")
    for country, region, start, end, note in DEFAULT_RULES:
        QuietHoursRule.objects.get_or_create(
            country=country,
            region=region,
            defaults={"allowed_from": start, "allowed_until": end, "note": note},
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0005_quiet_hours_templates_tracking")]

    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
