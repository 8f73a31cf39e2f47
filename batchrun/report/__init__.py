"""The report of a batch: its model (:mod:`~batchrun.report.model`), its formats and files
(:mod:`~batchrun.report.formats`), its rebuilding from the platform
(:mod:`~batchrun.report.fetch`) and what each job's Logs and Metrics add
(:mod:`~batchrun.report.details`)."""

from batchrun.report.details import LOG_TAIL_LINES, point_log, with_job_details
from batchrun.report.fetch import rebuild_report
from batchrun.report.formats import FORMATS, RENDERERS, save_report
from batchrun.report.labels import log_excerpt
from batchrun.report.model import FORMAT_VERSION, Report, ReportJob, ReportLogLine, ReportOutput, build_report

__all__ = [
    "FORMATS",
    "FORMAT_VERSION",
    "LOG_TAIL_LINES",
    "RENDERERS",
    "Report",
    "ReportJob",
    "ReportLogLine",
    "ReportOutput",
    "build_report",
    "log_excerpt",
    "point_log",
    "rebuild_report",
    "save_report",
    "with_job_details",
]
