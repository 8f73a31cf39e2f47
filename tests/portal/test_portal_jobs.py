"""The portal in a real browser: start a job from a step's form and follow it live to its result."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx
from playwright.sync_api import expect

from batchrun.localjma import LocalJMA
from tests.browser import WatchedPage
from tests.portal.pages import job_id, open_step, start_hold, step_ids

#: Where the README's screenshot is written when set (``PORTAL_SCREENSHOT=docs/portal.png pytest …``).
SCREENSHOT = os.environ.get("PORTAL_SCREENSHOT")


def test_a_job_started_from_the_form_goes_pending_processing_completed_live(
    browser_page: WatchedPage, portal: LocalJMA, gates: Path
) -> None:
    page = browser_page.page
    start_hold(page, portal.url, gates / "hold")
    open_step(page, portal.url, "scale")
    expect(page.get_by_label("factor")).to_have_value("1.5")
    expect(page.get_by_label("mode")).to_have_value("fast")
    expect(page.get_by_label("verbose")).not_to_be_checked()
    page.get_by_label("Job name").fill("scaled numbers")
    page.get_by_label("count").fill("2")
    page.get_by_label("mode").select_option("exact")
    page.get_by_label("verbose").check()
    page.get_by_label("gate").fill(str(gates / "scale"))
    page.get_by_label("Upload a file to table").set_input_files(
        {"name": "numbers.csv", "mimeType": "text/csv", "buffer": b"1\n2\n3\n"})
    page.get_by_label("Job tags").fill("owner=portal-test\nkind=demo")
    page.get_by_role("button", name="Start job").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("scaled numbers")
    expect(page.locator("#job-state")).to_have_text("Pending")
    page.evaluate("window.sameDocument = true")
    (gates / "hold").touch()
    expect(page.locator("#job-state")).to_have_text("Processing")
    (gates / "scale").touch()
    expect(page.locator("#job-state")).to_have_text("Completed", timeout=30_000)
    assert page.evaluate("window.sameDocument") is True, "the page was reloaded instead of updated live"

    result = page.locator("#job-result")
    expect(result).to_contain_text('"rows": 2')
    expect(result).to_contain_text('"mode": "exact"')
    expect(result).to_contain_text('"verbose": true')
    expect(page.locator("dl.facts")).to_contain_text("owner=portal-test")
    with page.expect_download() as started:
        page.get_by_role("link", name="Download scaled.csv").click()
    download = started.value
    assert download.suggested_filename == "scaled.csv"
    assert Path(download.path()).read_text() == "1.5\n3.0"
    if SCREENSHOT:
        page.set_viewport_size({"width": 1000, "height": 640})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOT, type="png")


def test_a_validation_error_shows_next_to_its_field_and_keeps_the_answers(
    browser_page: WatchedPage, portal: LocalJMA
) -> None:
    page = browser_page.page
    browser_page.expect_status(400)
    open_step(page, portal.url, "scale")
    page.get_by_label("factor").fill("2.5")
    page.get_by_label("Job name").focus()
    page.keyboard.press("Enter")  # the keyboard submits the form too
    error = page.locator("#param-count-error")
    expect(error).to_have_text("missing required parameter 'count'")
    expect(page.get_by_label("count")).to_have_attribute("aria-describedby", "param-count-error")
    expect(page.get_by_label("factor")).to_have_value("2.5")
    expect(page.locator("#slot-0-error")).to_contain_text("input data slot 'table' needs at least 1 WorkData")


def test_a_refused_delete_shows_the_lineage_reason(browser_page: WatchedPage, portal: LocalJMA) -> None:
    page = browser_page.page
    open_step(page, portal.url, "two_outputs")
    page.get_by_label("label").fill("lineage")
    page.get_by_role("button", name="Start job").click()
    expect(page.locator("#job-state")).to_have_text("Completed", timeout=30_000)
    actions = page.get_by_role("region", name="Actions")
    expect(actions.get_by_role("button", name="Delete")).to_have_count(0)
    expect(actions).to_contain_text("Delete is not available: the job has 2 output WorkData; delete those first")
    actions.get_by_role("button", name="Allow output deletion").click()
    expect(page.get_by_role("button", name="Disallow output deletion")).to_be_visible()
    expect(page.get_by_role("region", name="Actions")).to_contain_text("the job has 2 output WorkData")


def test_a_job_with_no_lineage_left_is_deleted(browser_page: WatchedPage, portal: LocalJMA) -> None:
    page = browser_page.page
    open_step(page, portal.url, "echo")
    page.get_by_label("Job name").fill("short-lived")
    page.get_by_label("text").fill("hi")
    page.get_by_role("button", name="Start job").click()
    expect(page.locator("#job-state")).to_have_text("Completed", timeout=30_000)
    expect(page.locator("#job-result")).to_have_text('"hi"')
    deleted = job_id(page)
    browser_page.expect_status(404)
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")
    assert page.goto(f"{portal.url}/jobs/{deleted}").status == 404


def test_the_jobs_list_updates_states_live(browser_page: WatchedPage, portal: LocalJMA, gates: Path) -> None:
    tag = f"live={uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=portal.url) as api:
        steps = step_ids(api)
        started = api.post("/api/JobsRoot/RapidSetupJob", json={
            "Name": "held", "ProcessingStepUrl": f"{portal.url}/api/ProcessingStep/{steps['hold']}",
            "Parameters": json.dumps({"gate": str(gates / "held")}), "Tags": [tag], "Start": True,
        })
        assert started.status_code == 201, started.text
    page = browser_page.page
    page.goto(f"{portal.url}/jobs?{urlencode({'tag': tag})}")
    row = page.get_by_role("row").filter(has_text="held")
    expect(row).to_contain_text(re.compile("Pending|Processing"))
    page.evaluate("window.sameDocument = true")
    (gates / "held").touch()
    expect(row).to_contain_text("Completed", timeout=30_000)
    assert page.evaluate("window.sameDocument") is True


def test_a_new_job_joins_the_jobs_list_live_when_it_matches_the_filter(
    browser_page: WatchedPage, portal: LocalJMA, gates: Path
) -> None:
    """The list starts empty, so no event of a job it shows can refresh it: only a new job's can."""
    tag = f"joins={uuid.uuid4().hex[:8]}"
    page = browser_page.page
    page.goto(f"{portal.url}/jobs?{urlencode({'tag': tag})}")
    expect(page.locator("#jobs-list")).to_contain_text("No jobs match.")
    page.evaluate("window.sameDocument = true")
    with httpx.Client(base_url=portal.url) as api:
        hold = f"{portal.url}/api/ProcessingStep/{step_ids(api)['hold']}"
        for name, tags in (("stranger", ["joins=someone-else"]), ("newcomer", [tag])):
            answer = api.post("/api/JobsRoot/RapidSetupJob", json={
                "Name": name, "ProcessingStepUrl": hold, "Parameters": json.dumps({"gate": str(gates / name)}),
                "Tags": tags, "Start": False,
            })
            assert answer.status_code == 201, answer.text

    expect(page.get_by_role("row").filter(has_text="newcomer")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("row").filter(has_text="stranger")).to_have_count(0)  # another tag: not on this list
    assert page.evaluate("window.sameDocument") is True, "the list was reloaded instead of updated live"
