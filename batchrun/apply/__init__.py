"""The executor behind ``batchrun apply``.

``apply_manifest`` plans, confirms, executes and reports; inside, a :class:`Board` holds
every point's status, submit threads create jobs (one RapidSetupJob each) and the watch
loop follows them with one event stream and paged tag queries.
"""

from batchrun.apply.runner import ApplyOptions, ApplyResult, apply_manifest

__all__ = ["ApplyOptions", "ApplyResult", "apply_manifest"]
