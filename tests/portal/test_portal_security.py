"""The portal's security: sign-in with the API key, the session cookie, CSRF, CSP, and hostile names."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import Page, expect

from batchrun.localjma import LocalJMA
from tests.browser import WatchedPage
from tests.portal.pages import step_ids

KEY = "portal-test-key-" + uuid.uuid4().hex
HOSTILE = "<img src=x onerror=window.pwned=1><script>window.pwned=1</script>\"'&amp;</td></table>"
LONG = "x" * 150


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalJMA]:
    database = tmp_path_factory.mktemp("guarded") / "localjma.sqlite3"
    with LocalJMA(database, workers=0, api_key=KEY) as server:
        yield server


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


@contextmanager
def _signed_in(server: LocalJMA) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        token = _csrf(client.get("/login").text)
        answer = client.post("/login", data={"csrf": token, "api_key": KEY})
        assert answer.status_code == 303 and answer.headers["location"] == "/jobs"
        yield client


def test_the_portal_asks_for_the_key_once_and_keeps_a_strict_http_only_session(
    browser_page: WatchedPage, guarded: LocalJMA
) -> None:
    page = browser_page.page
    browser_page.expect_status(401)
    page.goto(f"{guarded.url}/jobs")
    expect(page).to_have_url(f"{guarded.url}/login")
    page.get_by_label("API key").fill("not-the-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That is not the API key this server was started with.")

    page.get_by_label("API key").fill(KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")
    cookies = page.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [("batchrun_portal", True, "Strict")]
    for where in (page.content(), page.url, json.dumps(cookies)):
        assert KEY not in where
    page.goto(f"{guarded.url}/workdata")
    expect(page.get_by_role("heading", level=1)).to_have_text("WorkData")
    assert page.request.get(f"{guarded.url}/api/EntryPoint").status == 401  # the API still wants its header

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{guarded.url}/login")
    page.goto(f"{guarded.url}/jobs")
    expect(page).to_have_url(f"{guarded.url}/login")


def test_without_signing_in_nothing_but_the_login_page_answers(guarded: LocalJMA) -> None:
    with httpx.Client(base_url=guarded.url) as anonymous:
        for path in ("/jobs", "/live", "/steps", "/workdata", f"/workdata/{uuid.uuid4()}/download"):
            answer = anonymous.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, "/login"), path
        assert anonymous.post("/workdata/upload", files={"file": ("a.txt", b"a")}).status_code == 401
        assert anonymous.get("/api/EntryPoint", headers={"x-api-key": KEY}).status_code == 200
        login = anonymous.get("/login")
        assert KEY not in login.text
        assert anonymous.post("/login", data={"csrf": _csrf(login.text), "api_key": "wrong"}).status_code == 401


def test_api_paths_stay_the_apis_even_under_a_wrong_prefix(portal: LocalJMA) -> None:
    with httpx.Client(base_url=portal.url) as client:
        for path in ("/api", "/api/nowhere", "/wrong/prefix/api/EntryPoint"):
            answer = client.get(path)
            assert (answer.status_code, answer.headers["content-type"]) == (404, "application/problem+json"), path
            assert "start from /api/EntryPoint" in answer.json()["detail"]
        assert client.get("/api/EntryPoint").status_code == 200


def test_every_post_needs_the_session_csrf_token(guarded: LocalJMA) -> None:
    with _signed_in(guarded) as client:
        upload = {"file": ("a.txt", b"a", "text/plain")}
        assert client.post("/workdata/upload", files=upload).status_code == 403
        assert client.post("/workdata/upload", data={"csrf": "forged"}, files=upload).status_code == 403
        token = _csrf(client.get("/workdata").text)
        assert client.post("/workdata/upload", data={"csrf": token}, files=upload).status_code == 303
        assert "a.txt" in client.get("/workdata").text


def test_pages_forbid_inline_scripts_and_remote_sources(guarded: LocalJMA) -> None:
    with _signed_in(guarded) as client:
        for path in ("/login", "/jobs", "/batches", "/steps", "/workdata", "/nowhere"):
            answer = client.get(path)
            policy = answer.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "unsafe-inline" not in policy and "http" not in policy
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert re.findall(r"<script(?![^>]*\bsrc=)", answer.text) == [], path
            assert " style=" not in answer.text, path


def _expect_harmless(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_text(HOSTILE).first).to_be_visible()
    assert page.evaluate("window.pwned") is None
    assert page.locator("main img, main script").count() == 0
    too_wide = page.evaluate("""Array.from(document.querySelectorAll('main *'))
        .filter(e => e.getBoundingClientRect().right > window.innerWidth).map(e => e.tagName + '.' + e.className)""")
    assert too_wide == [], f"{url}: these reach past the window: {too_wide}"


def test_hostile_names_tags_parameters_results_errors_and_file_names_are_shown_as_text(
    browser_page: WatchedPage, portal: LocalJMA
) -> None:
    with httpx.Client(base_url=portal.url) as api:
        ids = step_ids(api)

        def start(step: str, parameters: dict[str, str]) -> str:
            answer = api.post("/api/JobsRoot/RapidSetupJob", json={
                "Name": HOSTILE + LONG, "ProcessingStepUrl": f"{portal.url}/api/ProcessingStep/{ids[step]}",
                "Parameters": json.dumps(parameters), "Tags": [f"batchrun.batch={HOSTILE}", f"note={HOSTILE}{LONG}"],
                "Start": True,
            })
            assert answer.status_code == 201, answer.text
            return str(answer.headers["location"]).rsplit("/", 1)[-1]

        echoed, failed = start("echo", {"text": HOSTILE}), start("fail", {"message": HOSTILE})
        uploaded = api.post("/api/WorkDataRoot/Upload", files={"upload-file": ("upload.html", b"x", "text/html")})
        assert uploaded.status_code == 201, uploaded.text
        renamed = api.post(uploaded.headers["location"] + "/Rename", json={"NewName": HOSTILE + LONG})
        assert renamed.status_code < 300, renamed.text  # a multipart file name cannot carry every character
    page = browser_page.page
    page.goto(f"{portal.url}/jobs/{failed}")
    expect(page.locator("#job-state")).to_have_text("Error", timeout=30_000)
    page.goto(f"{portal.url}/jobs/{echoed}")
    expect(page.locator("#job-state")).to_have_text("Completed", timeout=30_000)
    for path in (f"/jobs/{echoed}", f"/jobs/{failed}", "/jobs", "/batches", "/workdata"):
        _expect_harmless(page, portal.url + path)
    page.goto(f"{portal.url}/batches")
    page.get_by_role("link", name=HOSTILE).click()
    expect(page.locator("#jobs-list")).to_contain_text("2 jobs")


def test_downloads_are_attachments_never_rendered_by_the_portal(portal: LocalJMA) -> None:
    name = f"page-{uuid.uuid4().hex}.html"
    with httpx.Client(base_url=portal.url) as client:
        token = _csrf(client.get("/workdata").text)
        html = (name, b"<script>alert(1)</script>", "text/html")
        assert client.post("/workdata/upload", data={"csrf": token}, files={"file": html}).status_code == 303
        listed = client.get("/workdata", params={"name": name}).text
        link = re.search(r'href="(/workdata/[^"]+/download)"', listed)
        assert link is not None, listed
        answer = client.get(link.group(1))
        assert answer.headers["content-disposition"].startswith("attachment")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in answer.headers["content-security-policy"]
