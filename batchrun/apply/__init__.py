"""The executor behind ``batchrun apply``.

``apply_manifest`` plans, confirms, executes and reports; inside, a :class:`Board` holds
every point's status, submit threads create jobs (one RapidSetupJob each) and the watch
loop follows them with one event stream and paged tag queries.
"""

from batchrun.apply.runner import ApplyOptions, ApplyResult, apply_manifest
from batchrun.apply.selectors import Selector, parse_selectors

__all__ = ["ApplyOptions", "ApplyResult", "Selector", "apply_manifest", "parse_selectors"]
