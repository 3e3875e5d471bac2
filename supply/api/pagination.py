"""Page-number pagination whose page size the client may choose, up to a cap. An oversized page is
a 400 rather than a silent cap, so a client never mistakes a short page for the whole answer."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class CappedPageNumberPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:  # int() reads "１０"
            raise ValidationError({"page_size": [f"must be a whole number, not {raw!r}."]})
        if int(raw) > self.max_page_size:
            raise ValidationError(
                {"page_size": [f"must be at most {self.max_page_size}, not {int(raw)}."]}
            )
        return int(raw)
