"""How the OpenAPI schema describes certificate login (drf-spectacular finds this extension by
the authentication class's dotted path once the module is imported)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ClientCertificateScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "supply.identity.authentication.ClientCertificateAuthentication"
    name = "clientCertificate"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        # OpenAPI 3.0 has no mutualTLS scheme (3.1 does); describe the header the edge sets.
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Client-Cert",
            "description": (
                "A TLS client certificate issued by the site's CA, presented to the nginx edge. "
                "nginx sets this header from the verified certificate; a client never sends it."
            ),
        }
