"""batchrun: declarative batch runs on the PineXQ job platform.

Step code imports ``Step``, ``version`` and the data slot types from here in every worker
process (and notebooks ``results``), so this module must stay light: it imports nothing
beyond the standard library.
"""

from batchrun.dataslots import DataSlot, InputSlot, OutputSlot, SlotOptions
from batchrun.resultset import Results, results
from batchrun.stepkit import Step, version

__all__ = [
    "DataSlot", "InputSlot", "OutputSlot", "Results", "SlotOptions", "Step", "__version__", "results", "version",
]
__version__ = "0.1.0"
