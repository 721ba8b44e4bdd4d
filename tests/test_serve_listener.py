"""`dolbom serve --workers N` hands its workers a listener that asyncio recognises as TCP, so every accepted
connection gets TCP_NODELAY: without it each keep-alive response after the first waited ~40 ms for the
client's delayed ACK (uvicorn's `bind_socket()` leaves `proto` at 0; Kludex/uvicorn#3149)."""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from api.cli import tcp_listener


async def _nodelay_of_accepted(sock: socket.socket) -> int:
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Report(asyncio.Protocol):
        def connection_made(self, transport):
            seen.set_result(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Report, sock=sock)
    port = sock.getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await asyncio.wait_for(seen, 10)
    finally:
        writer.close()
        server.close()


def _bound() -> socket.socket:
    return uvicorn.Config("api.main:worker_app", factory=True, workers=2, host="127.0.0.1", port=0).bind_socket()


def test_connections_accepted_by_workers_have_nodelay():
    assert asyncio.run(_nodelay_of_accepted(tcp_listener(_bound()))) != 0


def test_the_listener_keeps_its_address_and_stays_inheritable():
    bound = _bound()
    address = bound.getsockname()
    listener = tcp_listener(bound)
    assert listener.getsockname() == address
    assert listener.get_inheritable()
    assert listener.proto == socket.IPPROTO_TCP
    listener.close()
