"""Statements a unit of work sends together, in psycopg's pipeline mode where it can.

On loopback a statement's round trip costs about what its execution does, so a hop that carries
several statements sends them in one go and reads the replies as they come (pipeline mode):
one wait for the server instead of one per statement. Only plain statements are pipelined —
a ``Read`` (rows wanted) or a ``Write`` (nothing wanted back); a work that looks at one reply
before sending the next statement (``orders.update`` checks the venue id first) runs alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import outcome
import psycopg
from psycopg.rows import dict_row

Connection = psycopg.Connection[Any]
Row = dict[str, Any]
Params = dict[str, Any] | Sequence[Any] | None


@dataclass(frozen=True, slots=True)
class Read:
    """A SELECT (or ... RETURNING): its first row, or all of them."""

    query: str
    params: Params
    one: bool

    def __call__(self, conn: Connection) -> Row | list[Row] | None:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(self.query, self.params)
            return cur.fetchone() if self.one else cur.fetchall()


@dataclass(frozen=True, slots=True)
class Write:
    """A statement whose reply nobody reads; ``many``: once per set of parameters."""

    query: str
    params: Any
    many: bool = False

    def __call__(self, conn: Connection) -> None:
        with conn.cursor() as cur:
            if self.many:
                cur.executemany(self.query, self.params)
            else:
                cur.execute(self.query, self.params)


def run_writes(conn: Connection, works: Sequence[Callable[[Connection], object]]) -> None:
    """Run the works in order; each stretch of two or more plain writes in one pipeline."""
    start = 0
    while start < len(works):
        end = start
        while end < len(works) and isinstance(works[end], Write):
            end += 1
        if end - start >= 2:
            with conn.pipeline():  # leaving it syncs, and raises the first failure
                for write in works[start:end]:
                    write(conn)
            start = end
        else:
            works[start](conn)
            start += 1


def run_reads(conn: Connection, works: Sequence[Callable[[Connection], Any]]
              ) -> list[outcome.Outcome[Any]]:
    """Each work's outcome, in order; when one fails, all fail with that failure (the
    transaction is lost anyway). Plain reads, when all are, share one pipeline."""
    if len(works) < 2 or not all(isinstance(work, Read) for work in works):
        results: list[outcome.Outcome[Any]] = []
        for work in works:
            results.append(outcome.capture(work, conn))
            if isinstance(results[-1], outcome.Error):
                break
        return _fill(results, len(works))
    reads = [work for work in works if isinstance(work, Read)]
    results = []
    cursors: list[psycopg.Cursor[Row]] = []
    try:
        with conn.pipeline():
            for read in reads:
                cur = conn.cursor(row_factory=dict_row)
                cur.execute(read.query, read.params)
                cursors.append(cur)
            for read, cur in zip(reads, cursors, strict=True):
                results.append(outcome.capture(cur.fetchone if read.one else cur.fetchall))
                if isinstance(results[-1], outcome.Error):
                    break
    except psycopg.Error as exc:  # leaving the pipeline re-raises what a fetch already raised
        if not results or not isinstance(results[-1], outcome.Error):
            results.append(outcome.Error(exc))
    finally:
        for cur in cursors:
            cur.close()
    return _fill(results, len(works))


def _fill(results: list[outcome.Outcome[Any]], n: int) -> list[outcome.Outcome[Any]]:
    """Every work fails with the first failure once there is one (an outcome is unwrapped once:
    each work gets its own). In a pipeline the failure may even surface at an earlier read."""
    failure = next((r.error for r in results if isinstance(r, outcome.Error)), None)
    return results if failure is None else [outcome.Error(failure) for _ in range(n)]
