class DomainError(Exception):
    """A business rule refused the operation; the message is safe to show to staff."""


class IllegalTransition(DomainError):
    """A state change that the object's transition table does not allow."""

    def __init__(self, obj: object, from_state: str, to_state: str) -> None:
        self.from_state = from_state
        self.to_state = to_state
        super().__init__(f"{type(obj).__name__} cannot go from '{from_state}' to '{to_state}'")
