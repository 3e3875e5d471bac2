"""``GET /supply/api/whoami/``: who the presented certificate logs in as."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pki.certinfo import CertInfo
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


class WhoAmIView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=WhoAmISerializer)
    def get(self, request: Request) -> Response:
        info = request.auth
        if not isinstance(info, CertInfo):
            raise exceptions.PermissionDenied("whoami: Only a certificate login has an identity.")
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
            }
        )
