"""Benchmarks of the platform: `python -m bench.run [--quick]` writes bench/out/foundation.json."""
