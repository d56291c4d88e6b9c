"""Benchmarks: plain scripts `bench_<name>.py`, each with a `main()`; `python -m bench` runs all."""
