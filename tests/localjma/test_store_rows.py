"""Rows come back from the store as they went in, whatever their tags hold (tags are decoded by
splitting their stored JSON where it has no escape, and by ``json`` where it has)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchrun.localjma.store.database import Store
from batchrun.localjma.store.filters import JobFilter, Order
from batchrun.localjma.store.rows import JobRow, utc_now
from batchrun.states import JobState

TAG = st.text(st.characters(exclude_categories=("Cs",)), min_size=1)
#: Tags that look like the stored JSON's own separators, quotes and escapes.
TRICKY = st.sampled_from(['", "', '"', "\\", '\\", \\"', "a, b", "[", "]", '["x"]', "é", "\u2028", "\x00", " "])
OLDEST_FIRST = Order("created_at")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store(tmp_path_factory.mktemp("rows") / "jma.sqlite3")
    yield opened
    opened.close()


@settings(max_examples=200, deadline=None)
@given(tags=st.lists(TAG | TRICKY, max_size=5, unique=True), hidden=st.booleans(), state=st.sampled_from(JobState))
def test_a_job_reads_back_as_it_was_stored(store: Store, tags: list[str], hidden: bool, state: JobState) -> None:
    stored = store.insert_job(JobRow(0, f"id-{utc_now()}-{len(tags)}-{hidden}", "j", state, tags=tuple(tags),
                                     hidden=hidden, created_at=utc_now()))

    read = store.job(stored.id)
    (found,) = store.find_jobs(JobFilter(), OLDEST_FIRST, 1, 0, stored.seq - 1)

    assert read == found == stored
    assert type(read.state) is JobState and type(read.hidden) is bool


def test_a_page_of_rows_reads_back_in_order(tmp_path: Path) -> None:
    store = Store(tmp_path / "jma.sqlite3")
    try:
        stored = store.insert_jobs([
            JobRow(0, f"id-{number}", f"job {number}", JobState.COMPLETED, tags=(f"n={number}",) * (number % 2),
                   output_deletable=number == 1, created_at=utc_now())
            for number in range(3)
        ])

        assert store.find_jobs(JobFilter(), OLDEST_FIRST, 10, 0) == stored
    finally:
        store.close()
