"""The error hierarchy; app/api/errors.py maps it to HTTP in one place."""

from __future__ import annotations


class HearthError(Exception):
    """Base of every error Hearth raises on purpose."""


class StorageError(HearthError):
    """A file or store could not be written (mapped to 507)."""


class StorageFullError(StorageError):
    """The disk is full (mapped to 507)."""


class LowSpaceError(StorageFullError):
    """Free space is under the configured margin: writes are refused before they start (507)."""


class StoreUnavailableError(HearthError):
    """The event store (a Chroma server) cannot be reached: 503 with Retry-After."""

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreBusyError(StoreUnavailableError):
    """An earlier store call overran its time limit and still runs: new calls wait (503)."""


class DataDirLockedError(HearthError):
    """Another process owns the data directory."""


class EmbedderMismatchError(HearthError):
    """The collection was built with another embedding model: run `hearth reindex`."""


class NotFoundError(HearthError):
    """A named thing does not exist (mapped to 404)."""


class ConflictError(HearthError):
    """The request clashes with work in progress, e.g. a job already running (409)."""


class ScrapeError(HearthError):
    """The blog could not be scraped."""


class FetchError(ScrapeError):
    """A page or feed could not be fetched."""


class ExtractError(ScrapeError):
    """A fetched document could not be parsed."""


class BackupError(HearthError):
    """A backup could not be written, verified or restored."""


class ArchiveCorruptError(BackupError):
    """An archive fails its checksums or its manifest."""


class InvalidInputError(HearthError):
    """Input that passed the schema but makes no sense here (mapped to 422)."""


class IngestFormatError(InvalidInputError):
    """A body that is not the sending app's format at all (422)."""


class ConfigError(HearthError):
    """The settings cannot work (e.g. an exposed host with no token)."""


class ImportRowsError(InvalidInputError):
    """A file to import has bad rows, each named by its line; nothing from it was stored
    (422 over HTTP, exit code 2 from the CLI)."""
