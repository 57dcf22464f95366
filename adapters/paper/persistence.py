"""Keep a paper venue across restarts: its whole state in one file under the data directory.

A paper worker that forgot its venue at every restart would leave our books pointing at orders
nobody knows. The venue is a plain object, so it is pickled whole after every change (an order, a
cancel, a price move) and the file replaced atomically (write, fsync, rename): a crash leaves the
old state or the new one.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.paper.venue import PaperVenue
from hexexec.domain.orders import OrderIntent


class PersistentPaperVenue(PaperVenue):
    """A PaperVenue that saves itself to ``path`` after each change."""

    path: Path | None = None

    @classmethod
    def open(cls, path: Path, make: Callable[[], PersistentPaperVenue]) -> PersistentPaperVenue:
        """The venue saved at ``path``, or ``make()`` (saved at once) when there is none yet."""
        if path.exists():
            with path.open("rb") as f:
                venue = pickle.load(f)  # our own file, written by save() below
            if not isinstance(venue, cls):
                raise ValueError(f"{path} does not hold a paper venue")
        else:
            venue = make()
        venue.path = path
        for rules in make().symbol_rules().values():  # symbols configured since it was saved
            if rules.symbol not in venue.symbol_rules():
                venue.list_symbol(rules)
        venue.save()
        return venue

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("path", None)
        return state

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def place(self, intent: OrderIntent) -> str:
        try:
            return super().place(intent)
        finally:
            self.save()

    def cancel(self, order_id: str) -> None:
        try:
            super().cancel(order_id)
        finally:
            self.save()

    def set_price(self, symbol: str, price: Decimal) -> None:
        super().set_price(symbol, price)
        self.save()
