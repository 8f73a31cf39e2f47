"""Benchmarks of batchrun and its local JMA: ``python -m bench`` lists and runs them."""
