"""The local JMA's persistence: one SQLite file, its schema and migrations, every SQL statement.

:mod:`.rows` holds the row types the other layers read, :mod:`.filters` the query filters
and their SQL, :mod:`.schema` the numbered migrations and :mod:`.database` the ``Store``.
Nothing here imports the HTTP, domain or worker layers.
"""
