"""IdempotencyRecord moves here from the inventory app, in Django's state only: its table keeps the
name `inventory_idempotencyrecord` (Meta.db_table), so existing rows stay where they are and a
fresh database gets the table from inventory 0001. Names are spelled out: migrations must not
change meaning when the code that came after them changes."""

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODEL = "idempotencyrecord"


def _relabel(apps, old: str, new: str) -> None:
    # The content type follows the model, so its permissions (and the admin log) keep pointing at
    # it. A fresh database has none yet (content types are made after migrating).
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label=new, model=MODEL).exists():
        content_type.objects.filter(app_label=old, model=MODEL).update(app_label=new)


def forwards(apps, schema_editor):
    _relabel(apps, "inventory", "idempotency")


def backwards(apps, schema_editor):
    _relabel(apps, "idempotency", "inventory")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The table is made there (0001) and was last altered there (0002).
        ("inventory", "0003_ledger_keeps_what_it_meant"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
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
                        ("key", models.CharField(max_length=255)),
                        ("method", models.CharField(max_length=10)),
                        ("path", models.CharField(max_length=255)),
                        ("request_hash", models.CharField(max_length=64)),
                        ("status_code", models.PositiveSmallIntegerField()),
                        (
                            "response_body",
                            models.JSONField(
                                encoder=django.core.serializers.json.DjangoJSONEncoder
                            ),
                        ),
                        ("created_at", models.DateTimeField(db_index=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "inventory_idempotencyrecord",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "key"), name="idempotency_unique_user_key"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
