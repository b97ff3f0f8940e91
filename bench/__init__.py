"""Benchmarks run by `make bench`; never collected as tests."""
