"""The one failure type of the prediction API: what the caller is told, and what only the log sees."""

from __future__ import annotations


class ApiError(Exception):
    """A failure the caller is told about: HTTP status, a CamelCase code and a short, safe message."""

    def __init__(self, status: int, code: str, message: str, detail: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail  # logged only, never returned

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def misconfiguration(detail: str) -> ApiError:
    """A 500 that names the cause in the log only."""
    return ApiError(500, "Misconfiguration", "The function is not configured correctly.", detail=detail)


def image_too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "ImageTooLarge", f"The image must be at most {max_bytes} bytes.")
