"""Connecting to Chroma, finding the active events collection, pinning its embedder.

Which collection holds the events is recorded in Chroma itself (the metadata of a tiny
`<namespace>-meta` collection), so it works the same for the embedded store and for a
Chroma server, and a reindex can swap collections with one metadata write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from app.errors import EmbedderMismatchError
from app.storage.embeddings import Embedder, HearthEmbeddingFunction
from app.storage.files import ensure_private_dir

DEFAULT_NAMESPACE = "hearth"
SCHEMA = 1


def make_client(chroma_dir: Path, chroma_url: str | None) -> ClientAPI:
    """Embedded store in `chroma_dir`, or the server named by `chroma_url` (http[s]://host:port)."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        if url.scheme not in {"http", "https"} or not url.hostname:
            raise ValueError(
                f"HEARTH_CHROMA_URL must look like http://host:port, got {chroma_url!r}"
            )
        ssl = url.scheme == "https"
        port = url.port or (443 if ssl else 8000)
        return chromadb.HttpClient(host=url.hostname, port=port, ssl=ssl, settings=settings)
    ensure_private_dir(chroma_dir)
    return chromadb.PersistentClient(path=str(chroma_dir), settings=settings)


def _meta_name(namespace: str) -> str:
    return f"{namespace}-meta"


def default_collection(namespace: str) -> str:
    return f"{namespace}-events"


def active_collection(client: ClientAPI, namespace: str) -> str:
    """The name of the collection that currently holds the events."""
    try:
        meta = client.get_collection(_meta_name(namespace), embedding_function=None)
    except (NotFoundError, ValueError):
        return default_collection(namespace)
    active = (meta.metadata or {}).get("active")
    return active if isinstance(active, str) else default_collection(namespace)


def set_active_collection(client: ClientAPI, namespace: str, name: str) -> None:
    """The swap point of a reindex: one metadata write, so it happens entirely or not at all."""
    meta = client.get_or_create_collection(_meta_name(namespace), embedding_function=None)
    meta.modify(metadata={"active": name, "schema": SCHEMA})


def collection_metadata(embedder: Embedder) -> dict[str, Any]:
    return {"embedder": embedder.name, "dim": embedder.dim, "schema": SCHEMA}


def create_collection(client: ClientAPI, name: str, embedder: Embedder) -> Collection:
    return client.create_collection(
        name,
        configuration={"hnsw": {"space": "cosine"}},
        metadata=collection_metadata(embedder),
        embedding_function=HearthEmbeddingFunction(embedder.name, embedder),  # type: ignore[arg-type]
    )


def open_collection(client: ClientAPI, name: str, embedder: Embedder) -> Collection:
    """Open (or create) `name`; refuse a collection whose vectors came from another model."""
    try:
        collection = client.get_collection(name, embedding_function=None)
    except NotFoundError:
        return create_collection(client, name, embedder)
    check_embedder(collection, embedder)
    return collection


def check_embedder(collection: Collection, embedder: Embedder) -> None:
    meta = collection.metadata or {}
    stored, dim = meta.get("embedder"), meta.get("dim")
    if stored == embedder.name and dim == embedder.dim:
        return
    raise EmbedderMismatchError(
        f"the event collection {collection.name!r} was embedded with {stored or 'an unknown model'}"
        f" ({dim or '?'}-d) but this install uses {embedder.name} ({embedder.dim}-d);"
        " run `hearth reindex` to re-embed every event with the current model"
    )
