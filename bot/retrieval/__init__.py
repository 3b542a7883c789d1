"""The FAQ retrieval index (framework-free): build, persist, query, hot-swap."""

from bot.retrieval.builder import build_index
from bot.retrieval.index import Candidate, FaqIndex
from bot.retrieval.store import IndexStore

__all__ = ["Candidate", "FaqIndex", "IndexStore", "build_index"]
