from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "supply.inventory"
    label = "inventory"
    verbose_name = "Stock and ledger"
