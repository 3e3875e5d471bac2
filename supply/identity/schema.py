"""How the OpenAPI schema describes certificate login (drf-spectacular finds this extension by
the authentication class's dotted path once the module is imported)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ClientCertificateScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "supply.identity.authentication.ClientCertificateAuthentication"
    name = "clientCertificate"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        # The certificate is presented to nginx in the TLS handshake; the headers nginx passes on
        # are overwritten on every request, so no client can send them: not an apiKey.
        return {
            "type": "mutualTLS",
            "description": (
                "A TLS client certificate issued by a CA the site trusts, presented to the nginx "
                "edge during the handshake and mapped to a user by the service."
            ),
        }
