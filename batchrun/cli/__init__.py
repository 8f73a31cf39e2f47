"""The command line: click commands and options, prompts, notices, and the human and JSON
views of plans, reports and progress.

The only package that imports click; the engine it calls takes its notices, its prompt
and its progress display as arguments. ``main`` (:mod:`batchrun.cli.main`) runs it.
"""
