"""Re-embed every event with the current model (`hearth reindex`), crash-safely.

Events are copied into a brand-new collection; only when every one is in it does the
active-collection pointer move (one metadata write), and only then is the old
collection deleted. A crash at any earlier point leaves the old collection in use and
an orphan that the next reindex removes. Run it with the server stopped: Chroma is not
safe for two processes on one directory.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chromadb.api import ClientAPI
from chromadb.errors import NotFoundError

from app.storage.embeddings import Embedder
from app.storage.events import chroma

PAGE = 256
WRITE_CHUNK = 64

Progress = Callable[[int, int], None]


def reindex(
    *,
    chroma_dir: Path,
    chroma_url: str | None,
    embedder: Embedder,
    progress: Progress | None = None,
    namespace: str = chroma.DEFAULT_NAMESPACE,
) -> int:
    """Blocking. Returns the number of events re-embedded; `progress(done, total)` per page."""
    client = chroma.make_client(chroma_dir, chroma_url)
    old_name = chroma.active_collection(client, namespace)
    _drop_orphans(client, namespace, keep=old_name)
    try:
        old = client.get_collection(old_name, embedding_function=None)
    except NotFoundError:
        chroma.open_collection(client, old_name, embedder)
        return 0
    new_name = f"{chroma.default_collection(namespace)}-{time.strftime('%Y%m%d%H%M%S')}"
    new_name += f"-{uuid.uuid4().hex[:6]}"
    new = chroma.create_collection(client, new_name, embedder)
    total = old.count()
    done = 0
    if progress:
        progress(0, total)
    while True:
        got = old.get(include=["documents", "metadatas"], limit=PAGE, offset=done)
        ids = got["ids"]
        if not ids:
            break
        docs = [d or "" for d in got["documents"] or []]
        metas: list[Any] = list(got["metadatas"] or [])
        vectors = embedder.embed_array(docs)
        for i in range(0, len(ids), WRITE_CHUNK):
            new.upsert(
                ids=ids[i : i + WRITE_CHUNK],
                embeddings=vectors[i : i + WRITE_CHUNK],
                documents=docs[i : i + WRITE_CHUNK],
                metadatas=metas[i : i + WRITE_CHUNK],
            )
        done += len(ids)
        if progress:
            progress(done, total)
    if new.count() != old.count():
        client.delete_collection(new_name)
        raise RuntimeError("reindex: the copy does not hold every event; nothing was changed")
    chroma.set_active_collection(client, namespace, new_name)
    client.delete_collection(old_name)
    return done


def _drop_orphans(client: ClientAPI, namespace: str, keep: str) -> None:
    """Remove half-built collections left by an interrupted reindex."""
    prefix = chroma.default_collection(namespace) + "-"
    for collection in client.list_collections():
        if collection.name.startswith(prefix) and collection.name != keep:
            client.delete_collection(collection.name)
