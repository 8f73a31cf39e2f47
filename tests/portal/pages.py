"""What the portal's browser tests do on its pages, named as a person would say it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect


def open_step(page: Page, base: str, name: str) -> None:
    """The step page of ``name``, reached from the Steps list like a person would."""
    page.goto(f"{base}/steps")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def start_hold(page: Page, base: str, gate: Path) -> str:
    """Start a ``hold`` job that keeps the only worker busy until ``gate`` exists; its page's path."""
    open_step(page, base, "hold")
    page.get_by_label("gate").fill(str(gate))
    page.get_by_role("button", name="Start job").click()
    expect(page.locator("#job-state")).to_have_text(re.compile("Pending|Processing"))
    return page.url


def job_id(page: Page) -> str:
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def step_ids(client: httpx.Client) -> dict[str, str]:
    """Step name → id, read from the portal's Steps page (what a person clicks through)."""
    return {name: step_id for step_id, name in re.findall(r'href="/steps/([^"]+)">([^<]+)</a>',
                                                           client.get("/steps").text)}
