"""Trusted documents: GraphQL operations registered by their SHA-256, and who may send raw text.

Why: a public API that runs any document an anonymous client writes has to defend against every
expensive document anyone can invent; one that runs only the operations its own React app was
built with (registered at deploy time with ``unityplan documents register``) has a known, reviewed
set. Authenticated callers may still be allowed free text (tools, staff), per ``TRUSTED_DOCUMENTS``:

* ``off``: documents are sent as text; hash-only requests get ``PERSISTED_QUERY_NOT_SUPPORTED``
  (Apollo clients then fall back to sending the text);
* ``allow`` (development and test default): free text for everyone, and Apollo's automatic
  persisted queries (APQ): a hash with its text registers the text once it executed, later
  requests may send the hash alone;
* ``anonymous-registered-only`` (production default): anonymous callers run registered documents
  only; authenticated callers may send text;
* ``registered-only``: everybody runs registered documents only.

Request forms: Apollo's ``extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}``
(with or without ``query``) and the GraphQL-over-HTTP draft's ``documentId: "sha256:<hex>"``.
A text whose hash is registered counts as registered even when sent without its hash, so a client
that always sends text keeps working once its operations are registered.

Registered texts are immutable by hash, so each process caches them (bounded LRU) without any
invalidation; unknown hashes are not cached (a registration elsewhere must be seen at once).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass

from db import documents as store
from db.engines import Database
from domain.callers import Caller
from graph.errors import BAD_REQUEST
from graph.server.policy import TrustedMode
from unityplan.settings import MAIN_SERVER

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"

_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_hex(text: str) -> str:
    """The hash a document is registered under: SHA-256 of its UTF-8 text, lower-case hex."""
    return hashlib.sha256(text.encode()).hexdigest()


class DocumentRefused(Exception):
    """The request's document cannot run. ``malformed``: the request itself is ill-formed (an
    HTTP 400 in any media type); otherwise a GraphQL request error (400 or 200 by media type)."""

    def __init__(self, code: str, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.malformed = malformed


@dataclass(frozen=True, slots=True)
class Resolved:
    """The text to execute, and whether to register it once it ran (APQ in ``allow`` mode)."""

    query: str
    register_as: str | None = None


def requested_hash(document_id: object, extensions: object) -> str | None:
    """The SHA-256 a request names (``documentId`` or APQ), or None; malformed forms raise."""
    wanted: str | None = None
    if document_id is not None:
        if not isinstance(document_id, str) or not document_id.startswith("sha256:"):
            raise DocumentRefused(
                BAD_REQUEST, '`documentId` must be "sha256:<64 hex digits>".', malformed=True
            )
        wanted = document_id.removeprefix("sha256:")
        if not _HEX.fullmatch(wanted):
            raise DocumentRefused(
                BAD_REQUEST, '`documentId` must be "sha256:<64 hex digits>".', malformed=True
            )
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is not None:
        apq = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if (
            not isinstance(persisted, dict)
            or persisted.get("version") != 1
            or not isinstance(apq, str)
            or not _HEX.fullmatch(apq)
        ):
            raise DocumentRefused(
                BAD_REQUEST,
                '`extensions.persistedQuery` must be {"version": 1, "sha256Hash": "<hex>"}.',
                malformed=True,
            )
        if wanted is not None and wanted != apq:
            raise DocumentRefused(
                BAD_REQUEST,
                "`documentId` and `persistedQuery` name different documents.",
                malformed=True,
            )
        wanted = apq
    return wanted


class TrustedDocuments:
    """Decide what text a request runs under ``mode``; look registered texts up (cached)."""

    def __init__(self, db: Database, mode: TrustedMode, cache_size: int = 4096) -> None:
        self.db = db
        self.mode = mode
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size

    def may_send_text(self, caller: Caller | None) -> bool:
        if self.mode in ("off", "allow"):
            return True
        if self.mode == "anonymous-registered-only":
            return caller is not None and caller.is_authenticated
        return False

    async def lookup(self, sha256: str) -> str | None:
        cached = self._cache.get(sha256)
        if cached is not None:
            self._cache.move_to_end(sha256)
            return cached
        async with self.db.connect(MAIN_SERVER) as conn:
            text = await store.get(conn, sha256)
        if text is not None:
            self._remember(sha256, text)
        return text

    def _remember(self, sha256: str, text: str) -> None:
        self._cache[sha256] = text
        self._cache.move_to_end(sha256)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def register(self, sha256: str, text: str) -> None:
        """Store a verified text (APQ); a no-op when it is already known."""
        if sha256 in self._cache:
            return
        async with self.db.transaction(MAIN_SERVER) as conn:
            await store.register(conn, [(sha256, text)])
        self._remember(sha256, text)

    async def resolve(
        self,
        query: str | None,
        document_id: object,
        extensions: object,
        caller: Caller | None,
    ) -> Resolved:
        """The text to run for a request's ``query``/``documentId``/``extensions`` and caller.

        Raises ``DocumentRefused`` with the code the client acts on: ``PERSISTED_QUERY_NOT_FOUND``
        (send the text too, if allowed), ``TRUSTED_DOCUMENT_REQUIRED`` (this caller may only run
        registered documents), ``PERSISTED_QUERY_HASH_MISMATCH``, ``PERSISTED_QUERY_NOT_SUPPORTED``.
        """
        if self.mode == "off":
            if document_id is not None or (query is None and _has_apq(extensions)):
                raise DocumentRefused(
                    PERSISTED_QUERY_NOT_SUPPORTED, "Persisted documents are not enabled here."
                )
            if query is None:
                raise DocumentRefused(BAD_REQUEST, "The request has no `query`.", malformed=True)
            return Resolved(query)
        if document_id is not None and query is not None:
            raise DocumentRefused(
                BAD_REQUEST, "Send either `query` or `documentId`, not both.", malformed=True
            )
        wanted = requested_hash(document_id, extensions)
        if wanted is None:
            if query is None:
                raise DocumentRefused(BAD_REQUEST, "The request has no `query`.", malformed=True)
            if self.may_send_text(caller) or await self.lookup(sha256_hex(query)) is not None:
                return Resolved(query)
            raise _required()
        if query is not None:
            if sha256_hex(query) != wanted:
                raise DocumentRefused(
                    PERSISTED_QUERY_HASH_MISMATCH, "The document's SHA-256 is not the one given."
                )
            if self.mode == "allow":
                known = await self.lookup(wanted)
                return Resolved(query, register_as=None if known is not None else wanted)
            if self.may_send_text(caller) or await self.lookup(wanted) is not None:
                return Resolved(query)
            raise _required()
        text = await self.lookup(wanted)
        if text is None:
            raise DocumentRefused(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
        return Resolved(text)


def _has_apq(extensions: object) -> bool:
    return isinstance(extensions, dict) and extensions.get("persistedQuery") is not None


def _required() -> DocumentRefused:
    return DocumentRefused(
        TRUSTED_DOCUMENT_REQUIRED,
        "This API runs only registered documents for this caller; send a registered "
        "`documentId` (or log in).",
    )
