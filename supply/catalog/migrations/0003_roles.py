"""Create the role groups (see supply/roles.py). Names are spelled out: migrations must not
change meaning when the code that came after them changes."""

from django.db import migrations

ROLES = ("viewer", "clerk", "issuer", "manager")


def create(apps, schema_editor):
    group = apps.get_model("auth", "Group")
    for name in ROLES:
        group.objects.get_or_create(name=name)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_units_of_issue"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create, remove)]
