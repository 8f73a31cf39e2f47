"""What step authors import from ``batchrun`` itself, and that importing it stays light."""

from __future__ import annotations

import json
import subprocess
import sys


def test_step_authors_import_everything_from_batchrun():
    from batchrun import DataSlot, InputSlot, OutputSlot, SlotOptions, Step, version
    from batchrun.dataslots import DataSlot as DataSlotType
    from batchrun.stepkit import Step as StepType

    assert DataSlot is DataSlotType and Step is StepType
    assert issubclass(InputSlot, DataSlot) and issubclass(OutputSlot, DataSlot)
    assert callable(version) and SlotOptions is not None


def test_notebooks_import_results_from_batchrun():
    from batchrun import Results, results
    from batchrun.resultset import Results as ResultsType

    assert Results is ResultsType and callable(results)
    assert {"Results", "results"} <= set(__import__("batchrun").__all__)


def test_importing_batchrun_loads_only_the_standard_library():
    script = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import batchrun\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in set(sys.modules) - before})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert not loaded & {"pydantic", "httpx", "click", "rich", "pinexq", "yaml", "jinja2", "pandas"}
    assert loaded - set(sys.stdlib_module_names) == {"batchrun"}
