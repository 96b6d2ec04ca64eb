"""An httpx response hook that checks every answer of one API a client sees."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from .schema import ApiSchema

__all__ = ["ConformanceRecorder", "Seen"]


@dataclass(frozen=True)
class Seen:
    """One answer: the request, its status, what served it and what was wrong with it."""

    method: str
    path: str
    status: int
    served: str
    problems: tuple[str, ...]


class ConformanceRecorder:
    """Checks every answer under the API's base path; other paths (a control API) pass by.

    Install :meth:`hook` as a ``response`` event hook of an ``httpx.AsyncClient``. Nothing
    raises inside the hook, so the test drives the whole scenario; :meth:`assert_conforming`
    then fails with every problem, including answers from routes the document lacks.
    """

    def __init__(self, schema: ApiSchema) -> None:
        self.schema = schema
        self.seen: list[Seen] = []

    async def hook(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if not self.schema.in_api(path):
            return
        body = await response.aread()
        served, problems = self.schema.check(request.method, path, response.status_code, body)
        self.seen.append(Seen(request.method, path, response.status_code, served, tuple(problems)))

    @property
    def problems(self) -> list[str]:
        return [problem for seen in self.seen for problem in seen.problems]

    def covered(self) -> set[tuple[str, int]]:
        """(operation key, status) pairs answered so far; ``unmatched`` for unserved routes."""
        return {(seen.served, seen.status) for seen in self.seen}

    def assert_conforming(self) -> None:
        """Fail listing every problem (each distinct one once, with how often it occurred)."""
        counts: dict[str, int] = {}
        for problem in self.problems:
            counts[problem] = counts.get(problem, 0) + 1
        if counts:
            lines = [f"{n}x {problem}" if n > 1 else problem for problem, n in counts.items()]
            raise AssertionError(
                f"{len(counts)} {self.schema.name} conformance problem(s) in "
                f"{len(self.seen)} answers:\n" + "\n".join(lines)
            )
