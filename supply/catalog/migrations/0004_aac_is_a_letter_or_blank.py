"""AAC: the pattern is one letter; blank is the field's own rule (blank=True), so the schema's
two branches (a letter, or blank) no longer overlap on "". No change to the table."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_roles"),
    ]

    operations = [
        migrations.AlterField(
            model_name="item",
            name="aac",
            field=models.CharField(
                blank=True,
                max_length=1,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Z]\\Z", "AAC must be one upper-case letter."
                    )
                ],
                verbose_name="AAC",
            ),
        ),
    ]
