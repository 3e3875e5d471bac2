"""The ledger's certificate subject DN is text, as in the identity mapping: a DN of more than 1000
characters (a certificate of another CA) made the row fail on PostgreSQL (varchar(1000)) while
SQLite stored it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0004_idempotency_moves_out"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="subject_dn",
            field=models.TextField(blank=True, verbose_name="certificate subject DN"),
        ),
    ]
