"""The local JMA's HTTP face: the Starlette app, its routes, Siren entities and ProblemDetails.

Routes read request bodies (:mod:`.requests`), turn them into plain values for the domain
and render what it returns (:mod:`.siren`); the domain's refusals become ProblemDetails
(:mod:`.problems`). Nothing here knows the worker pool.
"""
