"""Stands in for ``pinexq.procon.core``: only ``exceptions`` is provided."""
