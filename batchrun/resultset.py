"""Results in Python: ``batchrun.results("sweep.yaml", run="1")`` and ``.to_pandas()``.

The rows are the report's, read from the platform exactly as ``batchrun report`` reads them
(:func:`batchrun.report.rebuild_report`), over the connection the command line would use.
``batchrun`` imports this module, and step code imports ``batchrun`` in every worker, so it
imports nothing beyond the standard library until it is called.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from batchrun.errors import MissingExtraError

if TYPE_CHECKING:
    import pandas

    from batchrun.report import Report, ReportJob


class Results(list["ReportJob"]):
    """One row per point (parameters, state, result, error, timings, outputs), in manifest
    order; ``report`` is the whole report (batch, run, step, summary)."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.jobs)
        self.report = report

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a DataFrame with the report's CSV columns: one per parameter, one per
        result field (:func:`batchrun.report.model.flatten_result`: ``result.loss`` for dict
        results, ``result`` for others), then state, error, times and URL."""
        try:
            import pandas
        except ImportError:
            raise MissingExtraError("pandas", "Results.to_pandas()") from None
        from batchrun.report.formats import table

        columns, rows = table(self.report.model_copy(update={"jobs": list(self)}))
        return pandas.DataFrame.from_records(rows, columns=columns)


def results(
    manifest: str | os.PathLike[str],
    run: str | None = None,
    *,
    endpoint: str | None = None,
    api_key: str | None = None,
    overrides: Sequence[str] = (),
) -> Results:
    """The report's rows of ``run`` (default: the command line's default run) of the batch in
    ``manifest``, read from the platform without running anything.

    The platform is found as the command line finds it: ``endpoint``/``api_key``, else
    ``PINEXQ_ENDPOINT``/``PINEXQ_API_KEY``, else ``pinexq.toml``, else the embedded local JMA
    with its database next to the manifest. ``overrides`` are ``--set`` expressions.
    """
    from batchrun.connection import ENV_API_KEY, ENV_ENDPOINT, connect
    from batchrun.manifest import load_manifest
    from batchrun.plan import DEFAULT_RUN
    from batchrun.report import rebuild_report

    loaded = load_manifest(Path(manifest), overrides)
    with connect(
        loaded, endpoint or os.environ.get(ENV_ENDPOINT), api_key or os.environ.get(ENV_API_KEY), run_jobs=False
    ) as platform:
        return Results(rebuild_report(platform, loaded, run=run or DEFAULT_RUN, costs=loaded.report.costs,
                                      log_tails=True))  # as `batchrun report` reads it
