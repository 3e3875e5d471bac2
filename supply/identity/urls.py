from __future__ import annotations

from django.urls import path

from supply.identity.views import WhoAmIView

urlpatterns = [path("api/whoami/", WhoAmIView.as_view(), name="whoami")]
