# The domain-event outbox moves from orders to the kernel without losing a row: the kernel
# takes over the table orders created (its model state only, no SQL), then renames it to its
# own name. Ops' permissions on events and admin's history of them move with the content type.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor, *, src: str, dst: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    if not types.filter(app_label=dst, model="domainevent").exists():
        types.filter(app_label=src, model="domainevent").update(app_label=dst)


def forwards(apps, schema_editor) -> None:
    content_type_move(apps, schema_editor, src="orders", dst="postpurchase")


def backwards(apps, schema_editor) -> None:
    content_type_move(apps, schema_editor, src="postpurchase", dst="orders")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The shop model's app, whose first migration created the events' table.
        migrations.swappable_dependency(settings.TENANT_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DomainEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=48)),
                        ("payload", models.JSONField(default=dict)),
                        ("occurred_at", models.DateTimeField(auto_now_add=True)),
                        ("delivered_to", models.JSONField(blank=True, default=list)),
                        ("is_fully_delivered", models.BooleanField(default=False)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                        (
                            "shop",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.TENANT_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-occurred_at"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("is_fully_delivered", False)),
                                fields=["occurred_at"],
                                name="domainevent_pending_idx",
                            )
                        ],
                        "db_table": "orders_domainevent",
                    },
                ),
            ],
            database_operations=[],
        ),
        # orders_domainevent → postpurchase_domainevent (a rename: no row is copied).
        migrations.AlterModelTable(name="domainevent", table=None),
        migrations.RunPython(forwards, backwards),
    ]
