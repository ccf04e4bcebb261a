"""Benchmarks of the memory service: retrieval quality (bench.retrieval) and speed (bench.perf)."""
