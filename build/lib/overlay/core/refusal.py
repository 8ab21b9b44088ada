"""What every refusal shares: the base class, and the marker that puts its words in the catalogs."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for the catalogs (overlay/i18n); each door shows it in its own language."""
    return message


class Refused(Exception):
    """A command whose precondition does not hold; the class name is the refusal's name."""

    message = "refused"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)

    @property
    def name(self) -> str:
        return type(self).__name__
