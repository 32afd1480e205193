"""The benchmark suite (make bench): see docs/benchmarks.md."""
