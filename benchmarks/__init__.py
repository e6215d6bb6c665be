"""Side-by-side performance benchmarks; see benchmarks/README.md."""
