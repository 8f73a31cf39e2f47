"""Adaptive search: each trial a platform job, the study rebuilt from the platform on every
start (:mod:`.driver`), its trials read back from the jobs (:mod:`.trials`), its report with
the best trial first and the optimisation history (:mod:`.history`). Only :mod:`.sampler`
imports Optuna (the ``search`` extra), so reports and status work without it."""
