"""What a handler gets: one parsed request. Handlers are plain synchronous functions
``(sim, call) -> data`` (the venue is synchronous); the pipeline in :mod:`.app` does the rest."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.paper.http.sim import SimGmo


@dataclass(frozen=True, slots=True)
class Call:
    """One request: ``query`` for GET, ``body`` (a JSON object) for POST; ``key`` when private."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None


Handler = Callable[["SimGmo", Call], Any]
