from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "supply.serving"
    label = "serving"
    verbose_name = "Serving"
