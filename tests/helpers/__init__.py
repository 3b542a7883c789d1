"""Helpers shared by several test modules (payloads, throwaway databases, servers, seeded data).

Test modules import from here, never from one another; ``tests/unit/test_import_graph.py`` checks that.
"""
