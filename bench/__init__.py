"""The benchmark (`make bench`): bench/run.py drives it; see the README's "Performance"."""
