"""The client's transport: one HTTP session, the API key, the error family, pages as iterators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from clearance.client._errors import RegisterError, Unreachable, error_from

API = "/api/v1"
F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


def operation(method: str, path: str) -> Callable[[F], F]:
    """Mark a client method as the one for an API operation (the coverage test reads it)."""

    def mark(function: F) -> F:
        function.__dict__["operation"] = (method, path)
        return function

    return mark


def digest_of(value: str) -> str:
    """A digest as bare hex, from `sha256:<hex>` or hex."""
    return value.strip().removeprefix("sha256:").lower()


def shown(digest: str) -> str:
    """A digest as the register shows it: `sha256:<hex>`."""
    return f"sha256:{digest_of(digest)}"


class Session:
    """A connection to one register, as one principal (or none, for the public reads)."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self._owned = http is None
        self.http = http or httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        """Close the connection (when the client opened it)."""
        if self._owned:
            self.http.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
        prefix: str = API,
    ) -> httpx.Response:
        """One call; an error answer or no answer raises a RegisterError."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self.http.request(
                method,
                f"{prefix}{path}",
                json=json,
                params=query,
                content=content,
                headers=self._headers(headers),
            )
        except httpx.HTTPError as exc:
            raise Unreachable(f"{self.url}: the register cannot be reached: {exc}") from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise error_from(response.status_code, body, response.text)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call whose answer is JSON."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise RegisterError(
                f"{path}: the answer is not JSON", status=response.status_code, code="bad_answer"
            ) from None

    def pages(
        self, path: str, model: type[M], params: dict[str, Any] | None = None, page_size: int = 100
    ) -> Iterator[M]:
        """Every item of a paginated list, fetching the next page as the iteration needs it."""
        after: str | None = None
        while True:
            page = self.json(
                "GET", path, params=(params or {}) | {"limit": page_size, "after": after}
            )
            for item in page["items"]:
                yield model.model_validate(item)
            after = page.get("next")
            if not after:
                return

    def absolute(self, relative: str) -> str:
        """A URL on this register from a path it answered (a bundle URL)."""
        return f"{self.url}{relative}"


def read_file(path: Path | str) -> bytes:
    """A file's bytes, or a RegisterError naming it."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise RegisterError(f"{path}: {exc.strerror or exc}", code="unreadable") from None


def chunks(
    data: bytes, progress: Callable[[int], None] | None, size: int = 1 << 20
) -> Iterator[bytes]:
    """The bytes in pieces, telling `progress` how many went each time (long uploads)."""
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        if progress is not None:
            progress(len(piece))
        yield piece
