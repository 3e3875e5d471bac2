from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "supply.identity"
    label = "identity"
    verbose_name = "Certificate identities"
