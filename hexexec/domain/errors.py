"""What a broker call can end in besides success. Shared by the core and every broker adapter.

The split is the heart of the exactly-once protocol (DESIGN §3): a *definitive* failure means the
venue did not take the order; an *ambiguous* one means it may have, so the order must be resolved
and never resent.
"""

from __future__ import annotations


class BrokerError(Exception):
    """Base of broker failures. Messages never carry secrets."""


class BrokerRejected(BrokerError):
    """The venue answered clearly and did not do it (e.g. ERR-201 insufficient funds)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class BrokerUnavailable(BrokerError):
    """The venue clearly did not do it and asks us to come back later (maintenance, rate limit).

    For a place call this is definitive *for that call*: the order was not taken and may be sent
    again after the pause. ``retry_after`` is a hint in seconds.
    """

    def __init__(self, code: str, message: str, retry_after: float = 1.0) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after


class AmbiguousOutcome(BrokerError):
    """No clear answer (timeout, reset, 5xx, unreadable reply): the call may or may not have acted."""


class OrderNotFound(BrokerError):
    """The venue does not know this order id (GMO ERR-5123)."""


class OrderNotCancellable(BrokerError):
    """The order is already ending or ended (GMO ERR-5122): look up its real outcome."""


class VenueOrderOwned(Exception):
    """A store refused to give one venue order id to a second row (one venue order, one row)."""

    def __init__(self, order_id: str, owner: str) -> None:
        super().__init__(f"venue order {order_id} already belongs to {owner}")
        self.order_id = order_id
        self.owner = owner


class StoreUnavailable(Exception):
    """The store could not complete a unit of work right now (connection lost, server restarting,
    a lock or statement timed out). The unit of work was rolled back — or, when the connection
    was lost during the commit, may have been committed: every unit of work of the services is
    written to be run again safely, so the answer is to wait a little and run it again."""
