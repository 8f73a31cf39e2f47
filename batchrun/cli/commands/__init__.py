"""The ``batchrun`` commands, one module each."""
