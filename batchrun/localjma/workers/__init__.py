"""The local JMA's worker processes: the pool that runs started jobs, and what runs inside them.

Workers are spawned, so they import only this package (and the step sources): nothing
of the HTTP, domain or store layers. The pool speaks :mod:`.messages`; the server
translates them into job changes.
"""
