"""One page of a job query, read straight from its JSON.

An apply reads the whole batch in pages of 1000 jobs, several times. pinexq-client's
result objects validate every Siren detail of every job (actions, links, sub-entities)
and cost about 0.3 ms per job, which made reading a 10,000-job batch take seconds of
client CPU. This model keeps only what batchrun uses — each job's properties and self
link, and the page's ``next`` link — and pydantic parses it in one pass.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_pascal


class _Lenient(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore")


class SirenLink(BaseModel):
    rel: list[str]
    href: str


class JobProperties(_Lenient):
    name: str | None = None
    state: str | None = None
    tags: list[str] | None = None
    result: str | None = None
    error_description: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


class JobItem(BaseModel):
    class_: list[str] = Field(default_factory=list, alias="class")
    properties: JobProperties = Field(default_factory=JobProperties)
    links: list[SirenLink] = Field(default_factory=list)

    @property
    def self_href(self) -> str | None:
        return _href(self.links, "self")


class JobPage(BaseModel):
    """A ``JobQueryResult`` entity: the jobs on this page and where the next page is."""

    class_: list[str] = Field(alias="class")
    entities: list[JobItem] = Field(default_factory=list)
    links: list[SirenLink] = Field(default_factory=list)

    @field_validator("class_")
    @classmethod
    def _is_a_job_query_result(cls, value: list[str]) -> list[str]:
        if "JobQueryResult" not in value:
            raise ValueError(f"expected a JobQueryResult, got an entity of class {value}")
        return value

    @property
    def jobs(self) -> list[JobItem]:
        return [item for item in self.entities if "Job" in item.class_]

    @property
    def next_href(self) -> str | None:
        return _href(self.links, "next")


def _href(links: list[SirenLink], rel: str) -> str | None:
    return next((link.href for link in links if rel in link.rel), None)
