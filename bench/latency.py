"""A TCP proxy that puts a network between a client and a server on this machine.

Every byte is forwarded in order, each direction held back by half the round-trip time,
so one HTTP request and its answer cost one ``rtt`` more than on loopback, as a platform
across the internet does; bandwidth stays that of loopback. The server sees the proxy's
``Host``, so the links it answers with lead back through the proxy.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk written ``delay`` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
        with suppress(OSError):
            writer.write_eof()

    sender = asyncio.create_task(send())
    try:
        while chunk := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, chunk))
    except OSError:
        pass
    queue.put_nowait((loop.time() + delay, b""))
    with suppress(OSError):
        await sender


async def _serve(upstream: tuple[str, int], rtt: float, ready: Future[int], stop: asyncio.Event) -> None:
    async def connect(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*upstream)
        await asyncio.gather(_pipe(client_reader, server_writer, rtt / 2), _pipe(server_reader, client_writer, rtt / 2))
        for writer in (client_writer, server_writer):
            writer.close()

    server = await asyncio.start_server(connect, "127.0.0.1", 0)
    ready.set_result(server.sockets[0].getsockname()[1])
    async with server:
        await stop.wait()


@contextmanager
def far_away(url: str, rtt: float) -> Iterator[str]:
    """``url`` as seen across a network with ``rtt`` seconds of round-trip time: the proxy's URL."""
    parts = urlsplit(url)
    loop = asyncio.new_event_loop()
    ready: Future[int] = Future()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete,
                              args=(_serve((parts.hostname or "127.0.0.1", parts.port or 80), rtt, ready, stop),),
                              daemon=True)
    thread.start()
    port = ready.result(timeout=10)
    try:
        yield f"{parts.scheme}://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
