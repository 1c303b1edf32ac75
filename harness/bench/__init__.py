"""Benchmarks of the micro-graphs (`insitu bench ...`)."""
