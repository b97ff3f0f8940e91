# The domain-event outbox moved to the kernel (postpurchase.DomainEvent, postpurchase's 0001):
# orders forgets the model here, while its table and rows stay, taken over by the kernel.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0009_payment_states_shop_sms_number"),
        ("postpurchase", "0001_domainevent_from_orders"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DomainEvent")],
            database_operations=[],
        ),
    ]
