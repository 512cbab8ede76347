"""Benchmarks: Fluxa against a raw baseline doing the same work on the same parts.

Run with `make bench` (or `python -m bench --help`). Nothing here is a test: no
timing is asserted anywhere; the figures go to a table and a JSON file.
"""
