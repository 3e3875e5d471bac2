"""Load the standard units-of-issue table shipped in supply/catalog/data/units_of_issue.csv."""

from django.db import migrations


def load(apps, schema_editor):
    from supply.catalog.reference import units_of_issue

    model = apps.get_model("catalog", "UnitOfIssue")
    for code, name in units_of_issue():
        model.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
