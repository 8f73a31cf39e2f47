"""The report of a batch: its model (:mod:`~batchrun.report.model`), its formats and files
(:mod:`~batchrun.report.formats`) and its rebuilding from the platform
(:mod:`~batchrun.report.fetch`)."""

from batchrun.report.fetch import rebuild_report
from batchrun.report.formats import FORMATS, RENDERERS, save_report
from batchrun.report.model import FORMAT_VERSION, Report, ReportJob, ReportOutput, build_report

__all__ = [
    "FORMATS",
    "FORMAT_VERSION",
    "RENDERERS",
    "Report",
    "ReportJob",
    "ReportOutput",
    "build_report",
    "rebuild_report",
    "save_report",
]
