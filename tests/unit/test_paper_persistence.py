"""A paper venue saved to disk comes back with its orders, fills and positions."""

from __future__ import annotations

from decimal import Decimal

from adapters.paper.persistence import PersistentPaperVenue
from adapters.paper.settings import VenueSettings
from hexexec.domain.orders import OrderIntent, SettleType, Side
from hexexec.domain.signal import OrderType


def test_the_venue_survives_a_restart(tmp_path):
    path = tmp_path / "paper-venue.pickle"

    def make() -> PersistentPaperVenue:
        return PersistentPaperVenue.for_symbols(["BTC_JPY"], settings=VenueSettings())

    venue = PersistentPaperVenue.open(path, make)
    venue.set_price("BTC_JPY", Decimal("10000000"))
    buy = OrderIntent("gmo", "BTC_JPY", Side.BUY, SettleType.OPEN, OrderType.MARKET,
                      Decimal("0.01"), None, None)
    filled = venue.place(buy)
    resting = venue.place(OrderIntent("gmo", "BTC_JPY", Side.BUY, SettleType.OPEN, OrderType.LIMIT,
                                      Decimal("0.01"), Decimal("9000000"), None))

    again = PersistentPaperVenue.open(path, make)  # a new process would do exactly this
    assert [o.order_id for o in again.all_orders()] == [filled, resting]
    assert [f.execution_id for f in again.all_fills()] == [f.execution_id for f in venue.all_fills()]
    assert again.positions() == venue.positions()
    assert [o.order_id for o in again.active_orders("BTC_JPY")] == [resting]
    # It goes on from where it was: new ids continue, the resting order still fills.
    again.set_price("BTC_JPY", Decimal("8900000"))
    assert again.active_orders("BTC_JPY") == []
    third = again.place(buy)
    assert int(third) > int(resting)
    assert len(PersistentPaperVenue.open(path, make).all_fills()) == 3


def test_symbols_configured_after_the_save_are_listed(tmp_path):
    path = tmp_path / "paper-venue.pickle"
    PersistentPaperVenue.open(path, lambda: PersistentPaperVenue.for_symbols(["BTC_JPY"]))
    again = PersistentPaperVenue.open(
        path, lambda: PersistentPaperVenue.for_symbols(["BTC_JPY", "ETH_JPY"]))
    assert set(again.symbol_rules()) == {"BTC_JPY", "ETH_JPY"}
    again.set_price("ETH_JPY", Decimal("400000"))
    again.place(OrderIntent("gmo", "ETH_JPY", Side.BUY, SettleType.OPEN, OrderType.MARKET,
                            Decimal("0.1"), None, None))
    assert len(again.all_fills()) == 1
