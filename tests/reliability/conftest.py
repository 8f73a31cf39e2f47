"""The reliability tests reuse the batch tests' fixtures: a real local JMA, the CLI, manifests."""

from tests.batch.conftest import (  # noqa: F401 - fixtures, found by pytest through this module
    cli,
    jma,
    platform,
    steps_path,
    submit,
    write_manifest,
)
