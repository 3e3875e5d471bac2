"""Create the role groups (see supply/identity/roles.py). Idempotent: a database migrated before
the roles moved here already has them from catalog 0003 (now a no-op), and keeps them and their
members. Names are spelled out: migrations must not change meaning when the code that came after
them changes."""

from django.db import migrations

ROLES = ("viewer", "clerk", "issuer", "manager")


def create(apps, schema_editor):
    group = apps.get_model("auth", "Group")
    for name in ROLES:
        group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    # Backwards keeps the groups: in a database from before the move they are catalog 0003's, and
    # the code of that time needs them.
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
