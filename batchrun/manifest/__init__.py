"""Manifests: load a YAML sweep, validate it, expand it into job specs.

``load_manifest`` reads and validates a file (plus ``--set`` overrides); ``expand`` turns
the result into :class:`JobSpec` objects (``stream_specs`` one at a time, for batches too large
to hold). Both raise :class:`ManifestError`, whose message
names file, line, column and field of every problem found.
"""

from batchrun.identity import JobSpec
from batchrun.manifest.errors import Issue, Location, ManifestError
from batchrun.manifest.expand import expand, expand_trial, parameter_names, stream_specs
from batchrun.manifest.loader import load_manifest
from batchrun.manifest.models import Manifest
from batchrun.manifest.schema import manifest_schema

__all__ = [
    "Issue", "JobSpec", "Location", "Manifest", "ManifestError", "expand", "expand_trial", "load_manifest",
    "manifest_schema", "parameter_names", "stream_specs",
]
