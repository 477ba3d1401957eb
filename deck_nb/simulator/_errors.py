"""The error the simulator's handlers raise; the HTTP layer renders it as Deck's error envelope."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        type: str,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def detail(self) -> dict:
        detail = {"type": self.type, "code": self.code, "message": self.message}
        if self.field is not None:
            detail["field"] = self.field
        return detail


def not_found(resource: str, id_: str) -> ApiError:
    return ApiError(404, "request", f"{resource}_not_found", f"No {resource.replace('_', ' ')} with id `{id_}`.")


def invalid(field: str, message: str, code: str = "input_invalid") -> ApiError:
    return ApiError(400, "request", code, message, field)


def missing(field: str) -> ApiError:
    return ApiError(400, "request", "input_missing", f"`{field}` is required.", field)
