"""The store's transactions: an inner one is a savepoint, and what follows a commit waits for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchrun.localjma.store.database import Store
from batchrun.localjma.store.rows import JobRow, utc_now
from batchrun.states import JobState


def job(name: str) -> JobRow:
    return JobRow(0, f"id-{name}", name, JobState.CREATED, created_at=utc_now())


def test_an_inner_transaction_that_fails_is_undone_alone_and_its_calls_dropped(tmp_path: Path) -> None:
    store = Store(tmp_path / "jma.sqlite3")
    calls: list[str] = []
    try:
        with store.transaction():
            store.insert_job(job("kept"))
            store.after_commit(lambda: calls.append("kept"))
            with pytest.raises(RuntimeError), store.transaction():
                store.insert_job(job("undone"))
                store.after_commit(lambda: calls.append("undone"))
                raise RuntimeError("this request failed")
            assert calls == []  # nothing runs before the outer commit
        assert calls == ["kept"]
        assert store.job("id-kept") is not None and store.job("id-undone") is None
    finally:
        store.close()


def test_a_failed_transaction_keeps_nothing_and_calls_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "jma.sqlite3")
    calls: list[str] = []
    try:
        with pytest.raises(RuntimeError), store.transaction():
            store.insert_job(job("lost"))
            store.after_commit(lambda: calls.append("lost"))
            raise RuntimeError("the whole group failed")
        store.after_commit(lambda: calls.append("now"))  # outside a transaction: at once
        assert calls == ["now"]
        assert store.job("id-lost") is None
    finally:
        store.close()
