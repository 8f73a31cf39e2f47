"""The Jobs page over 10,000 jobs: paged by the server, filtered and counted per batch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from batchrun.localjma import LocalJMA
from tests.browser import WatchedPage
from tests.portal.many_jobs import fill

JOBS = 10_000


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    database = tmp_path_factory.mktemp("crowded") / "localjma.sqlite3"
    fill(database, JOBS)
    with LocalJMA(database, workers=0) as server:
        yield server


def test_the_jobs_page_shows_one_page_of_ten_thousand_and_pages_on(
    browser_page: WatchedPage, crowded: LocalJMA
) -> None:
    page = browser_page.page
    first = page.goto(f"{crowded.url}/jobs")
    assert first is not None and first.header_value("server-timing") is not None  # what bench/portal_jobs.py reads
    expect(page.locator(".pager").first).to_contain_text("10000 jobs · page 1 of 200")
    expect(page.locator("#jobs-list tbody tr")).to_have_count(50)
    expect(page.locator("#jobs-list tbody tr").first).to_contain_text("point-09999")
    page.get_by_role("link", name="Next").click()
    expect(page.locator(".pager").first).to_contain_text("page 2 of 200")
    expect(page.locator("#jobs-list tbody tr").first).to_contain_text("point-09949")

    page.get_by_label("State").select_option("Error")
    page.get_by_label("Sort").select_option("name")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".pager").first).to_contain_text("1000 jobs · page 1 of 20")
    expect(page.locator("#jobs-list tbody tr").first).to_contain_text("point-00000")


def test_the_batches_page_counts_each_batch_per_run_and_state(browser_page: WatchedPage, crowded: LocalJMA) -> None:
    page = browser_page.page
    page.goto(f"{crowded.url}/batches")
    batch = page.locator("section.batch").filter(has_text="sweep-a")
    expect(batch.get_by_role("heading")).to_contain_text("5000 jobs")
    totals = batch.get_by_role("row", name="all runs")
    expect(totals.get_by_role("cell")).to_have_text(["4000", "1000", "5000"])  # Completed, Error, all
    expect(batch.get_by_role("row").filter(has_text="2500")).to_have_count(2)  # runs 1 and 2
    totals.get_by_role("link", name="1000", exact=True).click()
    expect(page.locator(".pager").first).to_contain_text("1000 jobs")
    expect(page.get_by_label("State")).to_have_value("Error")
