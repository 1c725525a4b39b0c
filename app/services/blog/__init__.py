"""The blog family: fetch feeds and pages, extract and summarize posts, keep the cache."""

from app.services.blog.service import BlogService

__all__ = ["BlogService"]
