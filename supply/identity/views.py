"""``GET /supply/api/whoami/``: who the presented certificate logs in as."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pki.certinfo import CertInfo
from supply.identity.login import login_for_request
from supply.identity.roles import roles_of


class WhoAmISerializer(serializers.Serializer[None]):
    subject_dn = serializers.CharField()
    issuer_dn = serializers.CharField()
    serial = serializers.CharField(help_text="upper-case hex")
    sha256 = serializers.CharField(help_text="SHA-256 fingerprint, upper-case hex")
    not_after = serializers.DateTimeField()
    days_left = serializers.IntegerField()
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    is_superuser = serializers.BooleanField()
    anchor = serializers.CharField(help_text="the trust anchor: local, or one of `pki trust list`")
    identity_rule = serializers.ChoiceField(choices=["subject", "upn", "email"])
    identity_value = serializers.CharField(
        allow_null=True, help_text="the UPN or email the anchor names you by; null: the DNs"
    )
    crl_state = serializers.ChoiceField(
        choices=["fresh", "grace"],
        help_text="grace: a CRL of your chain is past its next update and logins are allowed "
        "only for the anchor's grace period",
    )
    crl_next_update = serializers.DateTimeField(
        allow_null=True, help_text="the earliest next update of your chain's CRLs"
    )


class WhoAmIView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=WhoAmISerializer)
    def get(self, request: Request) -> Response:
        info = request.auth
        login = login_for_request(request._request)
        if not isinstance(info, CertInfo) or login is None:
            raise exceptions.PermissionDenied("whoami: Only a certificate login has an identity.")
        verified = login.verified
        user = request.user
        return Response(
            {
                "subject_dn": info.subject_dn,
                "issuer_dn": info.issuer_dn,
                "serial": info.serial,
                "sha256": info.sha256,
                "not_after": info.not_after.isoformat(),
                "days_left": info.days_left(),
                "username": user.get_username(),
                "roles": sorted(roles_of(user)),
                "is_superuser": user.is_superuser,
                "anchor": verified.anchor,
                "identity_rule": verified.rule,
                "identity_value": verified.value or None,
                "crl_state": verified.crl_state,
                "crl_next_update": (
                    verified.crl_next_update.isoformat() if verified.crl_next_update else None
                ),
            }
        )
