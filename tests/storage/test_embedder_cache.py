"""Repeated short texts (moods, repeated searches) skip the model and give the same vector."""

from __future__ import annotations

import numpy as np

from app.storage.embeddings import Embedder


def test_repeats_are_served_from_the_cache_unchanged(embedder: Embedder) -> None:
    texts = ["tired. long day", "calm", "tired. long day"]
    first = embedder.embed_array(texts)
    assert np.array_equal(first[0], first[2])
    again = embedder.embed_array(["calm", "something new entirely"])
    assert np.array_equal(again[0], first[1])
    fresh = embedder.embed_array(["something new entirely"])
    np.testing.assert_allclose(fresh[0], again[1], atol=1e-6)
    assert np.isclose(np.linalg.norm(again[1]), 1.0, atol=1e-5)
    assert embedder.embed_array([]).shape == (0, embedder.dim)
