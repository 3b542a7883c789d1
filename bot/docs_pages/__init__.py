"""Documentation pages generated from the code and the benchmark results (``make docs-gen``).

The unit tests regenerate each page in memory and fail when the committed file differs.
"""
