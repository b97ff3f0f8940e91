from postpurchase.exceptions import DomainError


class PayloadError(DomainError):
    """A payload we cannot use: not JSON, or a field missing or wrong. Permanent."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)

    def as_dict(self) -> dict[str, str]:
        return {"error": "invalid payload", "field": self.field, "reason": self.reason}
