"""A TCP proxy that puts a network between a client and a server on this machine.

Every byte is forwarded in order, each direction held back by half the round-trip time,
so one HTTP request and its answer cost one ``rtt`` more than on loopback, as a platform
across the internet does; bandwidth stays that of loopback. The server sees the proxy's
``Host``, so the links it answers with lead back through the proxy.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk written ``delay`` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        with suppress(OSError):  # the other side went away: nothing left to deliver
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not chunk:
                    break
                writer.write(chunk)
                await writer.drain()
            writer.write_eof()

    async with asyncio.TaskGroup() as sending:
        sending.create_task(send())
        with suppress(OSError):
            while chunk := await reader.read(65536):
                queue.put_nowait((loop.time() + delay, chunk))
        queue.put_nowait((loop.time() + delay, b""))


async def _relay(
    upstream: tuple[str, int], rtt: float, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
) -> None:
    """One client connection, relayed to a connection of its own to ``upstream`` until both ends close."""
    writers = [client_writer]
    try:
        server_reader, server_writer = await asyncio.open_connection(*upstream)
        writers.append(server_writer)
        async with asyncio.TaskGroup() as pipes:
            pipes.create_task(_pipe(client_reader, server_writer, rtt / 2))
            pipes.create_task(_pipe(server_reader, client_writer, rtt / 2))
    finally:
        for writer in writers:
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()


async def _serve(upstream: tuple[str, int], rtt: float, ready: Future[int], stop: asyncio.Event) -> None:
    """Relay connections until ``stop``, then cancel the ones still open and wait for them.

    The loop keeps only weak references to tasks, so each connection's task is held here:
    a connection whose client has gone must not be collected while it still waits on its
    server."""
    connections: set[asyncio.Task[None]] = set()

    def connect(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(_relay(upstream, rtt, client_reader, client_writer))
        connections.add(task)
        task.add_done_callback(connections.discard)

    server = await asyncio.start_server(connect, "127.0.0.1", 0)
    ready.set_result(server.sockets[0].getsockname()[1])
    async with server:
        await stop.wait()
    for task in connections:
        task.cancel()
    await asyncio.gather(*connections, return_exceptions=True)


def _run(loop: asyncio.AbstractEventLoop, serve: Coroutine[Any, Any, None]) -> None:
    try:
        loop.run_until_complete(serve)
    finally:
        loop.close()


@contextmanager
def far_away(url: str, rtt: float) -> Iterator[str]:
    """``url`` as seen across a network with ``rtt`` seconds of round-trip time: the proxy's URL."""
    parts = urlsplit(url)
    loop = asyncio.new_event_loop()
    ready: Future[int] = Future()
    stop = asyncio.Event()
    serve = _serve((parts.hostname or "127.0.0.1", parts.port or 80), rtt, ready, stop)
    thread = threading.Thread(target=_run, args=(loop, serve), daemon=True)
    thread.start()
    port = ready.result(timeout=10)
    try:
        yield f"{parts.scheme}://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
