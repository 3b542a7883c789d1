"""The FAQ knowledge base: markdown files with YAML front matter (framework-free)."""

from bot.kb.entry import FaqEntry
from bot.kb.errors import KbIssue, KbValidationError
from bot.kb.loader import KnowledgeBase, load_entry, load_kb

__all__ = ["FaqEntry", "KbIssue", "KbValidationError", "KnowledgeBase", "load_entry", "load_kb"]
