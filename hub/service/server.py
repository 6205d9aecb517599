"""The HTTP server under the service: uvicorn with h11, plus a deadline for request headers.

uvicorn closes idle keep-alive connections but not a connection that opens and never finishes
its request line and headers: fifty such clients hold fifty sockets for ever.  The protocol
here closes a connection whose request headers are not complete within ``header_timeout``
seconds of its first byte (or of the connection).  The body has its own timeouts, in the app.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderDeadlineProtocol(H11Protocol):
    header_timeout = 10.0  # set per server by ``server()``

    def connection_made(self, transport: Any) -> None:
        self._header_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        """Armed while the peer has not sent a complete request head; idle keep-alive
        connections are uvicorn's own timeout's (this one starts at their first byte)."""
        waiting = self.conn.their_state is h11.IDLE and (
            self.cycle is None or self.cycle.response_complete
        )
        fresh = self.conn.their_state is h11.IDLE and self.timeout_keep_alive_task is None
        if waiting and fresh:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(self.header_timeout, self._too_slow)
        else:
            self._stop_header_timer()

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self.logger.info("closing a connection whose request headers took too long")
            self.transport.close()


def server(app: Any, host: str, port: int, header_timeout: float, **kw: Any) -> uvicorn.Server:
    """A uvicorn server for ``app`` whose connections must send their headers in time."""
    proto = type("Protocol", (HeaderDeadlineProtocol,), {"header_timeout": header_timeout})
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, http=proto, **kw))
