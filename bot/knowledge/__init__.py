"""The curated knowledge base: topics, answers and helplines loaded from ``responses/``."""

from bot.knowledge.base import KnowledgeBase, load_knowledge_base

__all__ = ["KnowledgeBase", "load_knowledge_base"]
