"""Once made the role groups; roles belong to identity now (identity 0002_roles makes them, and
does nothing where they exist). Kept, empty, so the migration graphs that name it stay valid."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_units_of_issue"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = []
