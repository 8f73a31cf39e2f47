"""The HTTP endpoints, one module per resource: each has a ``routes`` list for the app."""
