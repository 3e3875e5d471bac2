"""The mapping in Django admin: on its own page and inline on each user.

An admin can paste a certificate (PEM) instead of typing DNs; typed DNs are brought to the
canonical form. Roles are the user's groups and "superuser" is Django's own flag, so granting a
role or making an admin is done on the user's page, next to the user's certificates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from pki.certinfo import load_pem
from pki.errors import CertificateError
from supply.identity.access_requests import approve
from supply.identity.models import AccessRequest, CertificateIdentity
from supply.identity.services import Binding

# The admin and form classes are generic only in the type stubs.
if TYPE_CHECKING:
    _Form = forms.ModelForm[CertificateIdentity]
    _Admin = admin.ModelAdmin[CertificateIdentity]
    _Inline = admin.TabularInline[CertificateIdentity, User]
    _UserAdmin = UserAdmin[User]
    _RequestAdmin = admin.ModelAdmin[AccessRequest]
else:
    _Form, _Admin, _Inline = forms.ModelForm, admin.ModelAdmin, admin.TabularInline
    _UserAdmin = UserAdmin
    _RequestAdmin = admin.ModelAdmin


class CertificateIdentityForm(_Form):
    certificate = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 70}),
        help_text="Paste a PEM certificate to fill in the DNs (leave them empty).",
    )
    pin = forms.BooleanField(
        required=False, help_text="With a pasted certificate: pin the mapping to it."
    )

    class Meta:
        model = CertificateIdentity
        fields = ("user", "anchor", "value", "subject_dn", "issuer_dn", "fingerprint", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("anchor", "subject_dn", "issuer_dn"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["anchor"] = data.get("anchor") or "local"
        self.instance.anchor = data["anchor"]
        pem = (data.get("certificate") or "").strip()
        if pem:
            try:
                cert = load_pem(pem.encode("ascii"))
            except (CertificateError, UnicodeEncodeError):
                raise forms.ValidationError({"certificate": "Not a PEM certificate."}) from None
            binding = Binding.from_certificate(cert, pin=bool(data.get("pin")))
            data.update(
                anchor=binding.anchor,
                value=binding.value,
                subject_dn=binding.subject_dn,
                issuer_dn=binding.issuer_dn,
                fingerprint=binding.fingerprint,
            )
            for name in ("anchor", "value", "subject_dn", "issuer_dn", "fingerprint"):
                setattr(self.instance, name, data[name])
        elif not (data.get("value") or (data.get("subject_dn") and data.get("issuer_dn"))):
            raise forms.ValidationError(
                "Give the subject and issuer DN, or a UPN or email with its anchor, or paste a "
                "certificate."
            )
        return data


@admin.register(CertificateIdentity)
class CertificateIdentityAdmin(_Admin):
    form = CertificateIdentityForm
    list_display = ("anchor", "value", "subject_dn", "issuer_dn", "user", "pinned", "created_at")
    list_filter = ("anchor",)
    list_select_related = ("user",)
    search_fields = ("value", "subject_dn", "issuer_dn", "user__username", "fingerprint")
    autocomplete_fields = ("user",)

    @admin.display(boolean=True, description="pinned")
    def pinned(self, obj: CertificateIdentity) -> bool:
        return bool(obj.fingerprint)


class CertificateIdentityInline(_Inline):
    model = CertificateIdentity
    fields = ("anchor", "value", "subject_dn", "issuer_dn", "fingerprint", "note")
    extra = 0


admin.site.unregister(User)


@admin.register(User)
class UserWithCertificatesAdmin(_UserAdmin):
    inlines = (*UserAdmin.inlines, CertificateIdentityInline)


@admin.register(AccessRequest)
class AccessRequestAdmin(_RequestAdmin):
    """Requests of unknown certificates of an anchor with a default role: approve in one step."""

    list_display = ("user", "anchor", "value", "subject_dn", "role", "created_at")
    list_select_related = ("user",)
    readonly_fields = ("user", "anchor", "value", "subject_dn", "issuer_dn", "role", "created_at")
    actions = ("approve_selected",)

    @admin.action(description="Approve: activate with the requested role")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[AccessRequest]) -> None:
        names = [r.user.get_username() for r in queryset.select_related("user")]
        for name in names:
            approve(name)
        self.message_user(request, f"Approved {len(names)} account request(s).")
