import re
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

_DIGITS = re.compile(r"[0-9]{1,9}")


def _positive_int(request: Request, name: str, *, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or int(raw) < 1:
        raise ValidationError({name: ["Expected a positive integer."]})
    return int(raw)


class ApiPagination(PageNumberPagination):
    """`?page=N&page_size=M`; answers `count`, `next`, `previous` and `results`.

    A `page` or `page_size` that is not a positive whole number is a 400 (DRF alone would quietly
    use the first page or the default size), so a client's typo does not pass for a choice; a
    page past the last is a 404, and a size above the maximum is capped."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return _positive_int(request, self.page_query_param, default=1)

    def get_page_size(self, request: Request) -> int:
        size = _positive_int(request, self.page_size_query_param, default=self.page_size)
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page: {self.page_size} unless asked, "
                    f"at most {self.max_page_size} (a larger ask gets {self.max_page_size})."
                )
        return parameters
