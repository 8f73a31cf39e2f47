"""Hypothesis-driven requests to the local JMA: random actions, bodies and content types.

The JMA speaks Siren and publishes no OpenAPI document, so the requests are built from
what it does publish: the actions its entities offer, the wire names of their payloads,
the ids and URLs of real resources, mixed with junk. Whatever arrives, the server answers
with a problem (never a 5xx), and a refused request changes nothing.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from batchrun.localjma.domain.lifecycle import JOB_ACTIONS
from batchrun.localjma.http import requests as payloads
from tests.security.conftest import Seeded
from tests.security.support import snapshot

MODELS = [value for value in vars(payloads).values()
          if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == payloads.__name__]
WIRE_NAMES = sorted({field.alias or name for model in MODELS for name, field in model.model_fields.items()})
STEP_ACTIONS = ["EditTags", "Hide", "UnHide", "Deprecate", "Restore", "Download"]
WORKDATA_ACTIONS = ["Download", "Delete", "EditTags", "Rename", "Hide", "UnHide", "AllowDeletion", "DisallowDeletion"]
CONTENT_TYPES = [
    "application/json", "application/json; charset=utf-8", "application/problem+json", "text/plain",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "multipart/form-data", "", None,
]
JOB_STATES = ["Created", "ReadyForProcessing", "Pending", "Completed", "Error"]
HOSTILE_TEXT = ["' OR '1'='1", "../../etc/passwd", "%00", "{{ 7*7 }}", "\u0000", "\ufffd", "x" * 5000, "__class__"]


def _scalars(urls: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
        st.sampled_from(HOSTILE_TEXT + JOB_STATES + urls),
        st.integers(min_value=2**63 - 2, max_value=10**30),
    )


def _json(urls: list[str]) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(WIRE_NAMES), st.text(max_size=8))
    return st.recursive(
        _scalars(urls),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
        max_leaves=20,
    )


def _bodies(urls: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.just(b""),
        _json(urls).map(lambda value: json.dumps(value).encode()),
        st.dictionaries(st.sampled_from(WIRE_NAMES), _json(urls), max_size=6).map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=200),
        st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
    )


def _paths(seeded: Seeded) -> st.SearchStrategy[tuple[str, str]]:
    jobs = [seeded.ready, seeded.pending, seeded.parent]
    ids = st.one_of(st.sampled_from([*jobs, seeded.step, seeded.workdata]), st.sampled_from(HOSTILE_TEXT),
                    st.text(max_size=12))
    job_actions = st.one_of(st.sampled_from(sorted(JOB_ACTIONS)), st.sampled_from(HOSTILE_TEXT), st.text(max_size=12))
    roots = st.sampled_from([
        "/api/JobsRoot/CreateJob", "/api/JobsRoot/CreateSubJob", "/api/JobsRoot/RapidSetupJob",
        "/api/JobsRoot/Query", "/api/ProcessingStepsRoot/Query", "/api/ProcessingStepsRoot/Register",
        "/api/WorkDataRoot/Query", "/api/WorkDataRoot/Upload", "/api/EntryPoint", "/api/JobsRoot/UsedTags",
    ])
    segment = st.builds(lambda text: quote(text, safe=""), ids)
    return st.tuples(
        st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH"]),
        st.one_of(
            roots,
            st.builds(lambda job, action: f"/api/Job/{job}/{quote(action, safe='')}", segment, job_actions),
            st.builds(lambda step, action: f"/api/ProcessingStep/{step}/{action}", segment,
                      st.sampled_from(STEP_ACTIONS)),
            st.builds(lambda item, action: f"/api/WorkData/{item}/{action}", segment,
                      st.sampled_from(WORKDATA_ACTIONS)),
            st.builds(lambda job: f"/api/Job/{job}", segment),
        ),
    )


def _assert_answered(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        assert response.json()["status"] == response.status_code


def test_random_requests_get_problems_and_refusals_change_nothing(http: httpx.Client, seeded: Seeded) -> None:
    urls = [f"{http.base_url}api/Job/{seeded.ready}", f"{http.base_url}api/ProcessingStep/{seeded.step}",
            f"http://elsewhere/api/Job/{seeded.parent}/../{seeded.pending}"]

    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(target=_paths(seeded), body=_bodies(urls), content_type=st.sampled_from(CONTENT_TYPES))
    def check(target: tuple[str, str], body: bytes, content_type: str | None) -> None:
        method, path = target
        before = snapshot(http)
        request = http.build_request(method, path, content=body or None)
        if content_type is not None:
            request.headers["content-type"] = content_type
        response = http.send(request)
        _assert_answered(response)
        if response.status_code == 201 and method == "POST" and path.endswith("/Query"):
            _assert_answered(http.get(response.headers["location"]))
        if 400 <= response.status_code < 500:
            assert snapshot(http) == before, f"{method} {path} answered {response.status_code} but changed the store"

    check()
    assert http.get("/api/EntryPoint").status_code == 200


def test_random_query_filters_never_break_the_query(http: httpx.Client, seeded: Seeded) -> None:
    filters = st.dictionaries(st.sampled_from(sorted(f.alias or n for n, f in payloads.JobFilter.model_fields.items())),
                              _json([f"http://h/api/Job/{seeded.ready}"]), max_size=4)
    pagination = st.fixed_dictionaries({}, optional={"PageSize": st.integers(-5, 2000),
                                                     "PageOffset": st.integers(-5, 2**70)})

    @settings(max_examples=150, deadline=None)
    @given(filters, pagination, st.sampled_from(["JobsRoot", "ProcessingStepsRoot"]))
    def check(filter_: dict[str, Any], page: dict[str, Any], root: str) -> None:
        body = json.dumps({"Filter": filter_, "Pagination": page}).encode()  # NaN and Infinity too
        created = http.post(f"/api/{root}/Query", content=body, headers={"content-type": "application/json"})
        _assert_answered(created)
        if created.status_code == 201:
            result = http.get(created.headers["location"])
            _assert_answered(result)
            assert result.status_code == 200

    check()
