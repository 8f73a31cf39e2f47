"""Group commit: the creates that arrive together are written in one SQLite transaction.

A commit is the largest part of what a create costs the server (its pages written to the
WAL), and under load many requests are ready in the same turn of the event loop. Each
create hands its work to :meth:`CommitGroup.run` and waits: the first one of a turn
schedules the group's commit for the loop's next turn, and every create queued until then
runs in that one transaction, each in a savepoint of its own (a failing one is undone
alone and gets its own error). Nothing is answered before the transaction has committed,
so a ``201 Created`` survives the server being killed right after it; the events and
offers of the new jobs follow the commit (see ``Store.after_commit``). The work runs on the
loop's thread as before, all of a group in one go, so no request in between reads what is
not committed yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(eq=False)
class _Queued:
    work: Callable[[], Any]
    answer: asyncio.Future[Any]


class CommitGroup:
    """Runs the work of the requests queued in one turn of the loop in one transaction."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[None]]) -> None:
        self._transaction = transaction
        self._queued: list[_Queued] = []

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` inside the next group's transaction; its value once that has committed."""
        loop = asyncio.get_running_loop()
        queued = _Queued(work, loop.create_future())
        self._queued.append(queued)
        if len(self._queued) == 1:
            loop.call_soon(self._commit)
        value: T = await queued.answer
        return value

    def _commit(self) -> None:
        group, self._queued = self._queued, []
        outcomes: list[tuple[_Queued, Any, BaseException | None]] = []
        try:
            with self._transaction():
                for queued in group:
                    if not queued.answer.cancelled():  # the client is gone: never acknowledged, not done
                        outcomes.append(self._run_one(queued))
        except Exception as error:  # the commit failed: nothing of the group was stored
            for queued in group:
                if not queued.answer.done():
                    queued.answer.set_exception(error)
            return
        for queued, value, failure in outcomes:
            if queued.answer.done():
                continue
            if failure is None:
                queued.answer.set_result(value)
            else:
                queued.answer.set_exception(failure)

    def _run_one(self, queued: _Queued) -> tuple[_Queued, Any, BaseException | None]:
        try:
            with self._transaction():  # a savepoint: an error undoes this request's writes only
                return queued, queued.work(), None
        except Exception as error:
            return queued, None, error
