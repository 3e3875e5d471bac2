from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "supply.catalog"
    label = "catalog"
    verbose_name = "Catalog and reference data"
