"""What the local JMA does, apart from how it is asked: jobs, steps, WorkData and queries.

The domain reads and writes through :mod:`batchrun.localjma.store` and refuses requests
with its own errors (:mod:`.errors`), which the HTTP layer answers as ProblemDetails. It
takes plain values, never request bodies, and knows neither HTTP nor the worker pool: it
hands started jobs to an ``offer`` callable and takes the workers' reports through
:meth:`.jobs.JobService.recording`.
"""
