"""Embedders for tests that need a different model name or a model that never finishes."""

from __future__ import annotations

import hashlib
import threading

import numpy as np

from app.storage.embeddings import Embedder


class HashEmbedder:
    """A stand-in "other model": deterministic unit vectors from a hash of the text."""

    def __init__(self, name: str = "test/hash-model", dim: int = 384) -> None:
        self.name = name
        self.dim = dim

    def embed_array(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
            vec = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out[row] = vec / np.linalg.norm(vec)
        return out


class CountingEmbedder:
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.texts = 0
        self._lock = threading.Lock()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.texts += len(texts)
        return self.inner.embed_array(texts)
