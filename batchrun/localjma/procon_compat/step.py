"""Stands in for ``pinexq.procon.step``: the same ``Step`` and ``version`` batchrun offers.

Sharing the classes means a procon-style container is discovered exactly like one written
against ``batchrun``, and ``@version`` writes the same ``__pxq_metadata__``.
"""

from batchrun.stepkit import Step, version

__all__ = ["Step", "version"]
