"""``async with`` support for anything that owns an HTTP client and closes it in ``aclose``."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncClosing"]


class AsyncClosing:
    """Mixin: ``async with`` closes the object on exit; subclasses define ``aclose``."""

    async def aclose(self) -> None:
        """Release what the object holds; subclasses extend this."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
