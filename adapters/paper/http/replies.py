"""Replies that are not really replies: held requests, lost replies, gateway errors.

ASGI cannot close a connection without writing anything, so a "closed" reply writes the status
line and headers (with the real Content-Length) and ends the connection before the body: the
client sees a broken reply, never a readable one. A "held" reply writes nothing until the client
gives up (it disconnects) or ``hold_s`` passes, and then closes the same way.
"""

from __future__ import annotations

import trio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

GATEWAY_TEXT = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def gateway_error(status: int) -> Response:
    """An HTTP 5xx with an HTML page, as a load balancer in front of GMO answers."""
    text = GATEWAY_TEXT.get(status, "Server Error")
    page = f"<html><head><title>{status} {text}</title></head><body><h1>{status} {text}</h1></body></html>"
    return Response(page, status_code=status, media_type="text/html")


class Holds:
    """How many requests are being held right now (for tests and ``/sim/state``)."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = trio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        if self._idle.is_set():
            self._idle = trio.Event()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no request is held (at once when none is)."""
        await self._idle.wait()


class LostReply(Response):
    """Never delivers ``reply``: holds the request (``hold_s``) or closes at once (``hold_s=0``)."""

    def __init__(self, reply: Response | None, hold_s: float, holds: Holds) -> None:
        super().__init__()
        self.reply = reply or Response(b"{}", media_type="application/json")
        self.hold_s = hold_s
        self.holds = holds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hold_s > 0:
            self.holds.enter()
            try:
                with trio.move_on_after(self.hold_s):
                    while True:
                        message = await receive()
                        if message["type"] == "http.disconnect":
                            return  # the client gave up: nobody is left to answer
            finally:
                self.holds.leave()
        await send(
            {
                "type": "http.response.start",
                "status": self.reply.status_code,
                "headers": self.reply.raw_headers,
            }
        )
        # Returning without the body makes the server drop the connection mid-reply.
