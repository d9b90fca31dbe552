"""Open Badges 3.0 credentials: an award as a signed ``OpenBadgeCredential``, and its verification.

What an award becomes (W3C Verifiable Credentials 2.0 with the OB 3.0 context): an
``AchievementSubject`` naming the recipient only by a salted hash (OB 3.0 ``IdentityObject``), an
``Achievement`` per badge definition version, the issuing territory's ``Profile`` (one per
territory, its own Ed25519 key, published by the API), ``validFrom``/``validUntil``, and
``awardedDate`` (the first award, kept when a renewal moves ``validFrom``). It is secured as a
VC-JWT (VC-JOSE-COSE: the credential IS the JWT claims set; header ``alg: EdDSA``, ``kid`` = the
issuer's key id, ``typ: vc+jwt``, ``cty: vc``; ``iss``/``jti``/``iat``/``nbf``/``exp`` mirror the
credential). Revocation is a W3C Bitstring Status List v1.0: one bit per award, the list GZIP'd,
base64url'd and multibase-prefixed ``u``, at least 131,072 bits (16 KB) so a list never narrows
down who is whose.

Verification is pure here: the resolver fetches the issuer's key and the status bit (from this
API's own tables; a foreign issuer is never fetched) and ``verify`` says, check by check, what
held and what failed.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import re
import uuid
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.errors import BadUserInput
from domain.territories import validate_territory_id

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ALGORITHM = "EdDSA"
JWT_TYPE = "vc+jwt"
MEDIA_TYPE = "application/vc+jwt"
# W3C Bitstring Status List v1.0: the minimum length, for group privacy.
STATUS_LIST_BITS = 131_072
# A credential longer than this is refused before any parsing (ours are about 2 KB).
MAX_CREDENTIAL_LENGTH = 65_536
# A status list that inflates past this is refused (a gzip bomb costs nothing to send).
MAX_STATUS_LIST_BYTES = 1 << 20
# iat past the year 9999 is refused (datetime cannot hold it).
MAX_TIMESTAMP = 253_402_300_800
_INDEX = re.compile(r"0|[1-9][0-9]{0,8}")


class CheckKind(Enum):
    FORMAT = "FORMAT"
    ISSUER_KEY = "ISSUER_KEY"
    SIGNATURE = "SIGNATURE"
    VALIDITY_WINDOW = "VALIDITY_WINDOW"
    STATUS = "STATUS"


class Outcome(Enum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_CHECKED = "NOT_CHECKED"


@dataclass(frozen=True, slots=True)
class Check:
    kind: CheckKind
    outcome: Outcome
    reason: str


@dataclass(frozen=True, slots=True)
class Verification:
    """Every check in order; valid only when each passed."""

    checks: tuple[Check, ...]

    @property
    def valid(self) -> bool:
        return all(c.outcome is Outcome.PASSED for c in self.checks)

    def check(self, kind: CheckKind) -> Check:
        return next(c for c in self.checks if c.kind is kind)


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """Where an award's revocation bit lives: list ``list_no`` of its territory, bit ``index``."""

    list_no: int
    index: int


@dataclass(frozen=True, slots=True)
class AwardFacts:
    """What a credential says about one award; the badges area fills it from its rows."""

    award_id: uuid.UUID
    recipient_user_id: uuid.UUID
    recipient_territory_id: str
    definition_id: uuid.UUID
    version: int
    name: str
    description: str
    criteria: str
    image_url: str | None
    issuer_territory_id: str
    issuer_name: str
    # The first award; a renewal keeps it and moves valid_from/valid_until.
    awarded_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    status: StatusEntry


@dataclass(frozen=True, slots=True)
class Urls:
    """Every URL a credential names, under the API's public base URL (``PUBLIC_URL``)."""

    base: str

    def issuer(self, territory_id: str) -> str:
        return f"{self.base}/credentials/{territory_id}/issuer"

    def key_id(self, territory_id: str, kid: str) -> str:
        return f"{self.issuer(territory_id)}#{kid}"

    def status_list(self, territory_id: str, list_no: int) -> str:
        return f"{self.base}/credentials/{territory_id}/status/{list_no}"

    def achievement(self, territory_id: str, definition_id: uuid.UUID, version: int) -> str:
        return f"{self.base}/credentials/{territory_id}/achievements/{definition_id}/v{version}"

    def territory_of_issuer(self, url: str) -> str | None:
        """The territory whose issuer ``url`` is, when it is one of ours; else None."""
        found = re.fullmatch(re.escape(self.base) + r"/credentials/([a-z0-9_]+)/issuer", url)
        return _territory(found.group(1)) if found else None

    def status_list_of(self, url: str) -> tuple[str, int] | None:
        """(territory, list number) of one of our status list URLs; else None."""
        found = re.fullmatch(
            re.escape(self.base) + r"/credentials/([a-z0-9_]+)/status/([1-9][0-9]{0,8})", url
        )
        if found is None:
            return None
        territory_id = _territory(found.group(1))
        return None if territory_id is None else (territory_id, int(found.group(2)))


def _territory(value: str) -> str | None:
    try:
        return validate_territory_id(value)
    except BadUserInput:
        return None


# --- the credential -------------------------------------------------------------------------


def identity_hash(identity: str, salt: str) -> str:
    """OB 3.0 ``IdentityHash``: ``sha256$`` + hex SHA-256 of the identity followed by the salt."""
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def recipient_identity(territory_id: str, user_id: uuid.UUID) -> str:
    """The identity a credential hashes: the account, as this API names it across territories.
    Only its salted hash is in the credential, so a credential never carries a readable id."""
    return f"{territory_id}:{user_id}"


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_credential(facts: AwardFacts, urls: Urls, *, salt: str) -> dict[str, Any]:
    """The ``OpenBadgeCredential`` of an award, unsigned (``sign`` secures it)."""
    territory = facts.issuer_territory_id
    achievement: dict[str, Any] = {
        "id": urls.achievement(territory, facts.definition_id, facts.version),
        "type": ["Achievement"],
        "name": facts.name,
        "description": facts.description,
        "criteria": {"narrative": facts.criteria},
        "version": str(facts.version),
    }
    if facts.image_url is not None:
        achievement["image"] = {"id": facts.image_url, "type": "Image"}
    status_url = urls.status_list(territory, facts.status.list_no)
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{facts.award_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": facts.name,
        "issuer": {"id": urls.issuer(territory), "type": ["Profile"], "name": facts.issuer_name},
        "validFrom": _timestamp(facts.valid_from),
        "awardedDate": _timestamp(facts.awarded_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(
                        recipient_identity(facts.recipient_territory_id, facts.recipient_user_id),
                        salt,
                    ),
                    "identityType": "identifier",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": achievement,
        },
        "credentialStatus": {
            "id": f"{status_url}#{facts.status.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(facts.status.index),
            "statusListCredential": status_url,
        },
    }
    if facts.valid_until is not None:
        credential["validUntil"] = _timestamp(facts.valid_until)
    return credential


def build_status_list(
    urls: Urls, territory_id: str, list_no: int, revoked: Iterable[int], *, now: datetime
) -> dict[str, Any]:
    """The ``BitstringStatusListCredential`` of one list, unsigned."""
    url = urls.status_list(territory_id, list_no)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": urls.issuer(territory_id),
        "validFrom": _timestamp(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_status_list(revoked),
        },
    }


# --- signing --------------------------------------------------------------------------------


def _seconds(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def sign(
    credential: Mapping[str, Any], key: Ed25519PrivateKey, key_id: str, *, now: datetime
) -> str:
    """The credential as a compact JWS (VC-JWT): the credential is the claims set, with ``iss``,
    ``jti``, ``iat`` and ``nbf``/``exp`` mirroring ``validFrom``/``validUntil``."""
    issuer = credential["issuer"]
    claims: dict[str, Any] = {
        **credential,
        "iss": issuer["id"] if isinstance(issuer, Mapping) else issuer,
        "jti": credential["id"],
        "iat": int(now.timestamp()),
        "nbf": _seconds(credential["validFrom"]),
    }
    if "validUntil" in credential:
        claims["exp"] = _seconds(credential["validUntil"])
    return jwt.encode(
        claims,
        key,
        algorithm=ALGORITHM,
        headers={"kid": key_id, "typ": JWT_TYPE, "cty": "vc"},
    )


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).decode().rstrip("=")}


@dataclass(frozen=True, slots=True)
class PublishedKey:
    """One of an issuer's keys as the issuer Profile publishes it."""

    kid: str
    public_key: Ed25519PublicKey
    created_at: datetime
    retired_at: datetime | None


def issuer_profile(
    urls: Urls, territory_id: str, name: str, keys: Iterable[PublishedKey]
) -> dict[str, Any]:
    """The territory's issuer ``Profile`` with every key it ever signed with, as JsonWebKey
    verification methods: a retired key still verifies what it signed before it retired."""
    issuer = urls.issuer(territory_id)
    methods = [
        {
            "id": urls.key_id(territory_id, k.kid),
            "type": "JsonWebKey",
            "controller": issuer,
            "publicKeyJwk": public_jwk(k.public_key),
            **({"expires": _timestamp(k.retired_at)} if k.retired_at is not None else {}),
        }
        for k in keys
    ]
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": issuer,
        "type": ["Profile"],
        "name": name,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


# --- the status list ------------------------------------------------------------------------


def encode_status_list(revoked: Iterable[int], size: int = STATUS_LIST_BITS) -> str:
    """Bits set at ``revoked`` (index 0 is the left-most bit of the first byte), GZIP'd,
    base64url without padding, with the multibase prefix ``u``."""
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_status_list(encoded: str) -> bytes:
    """The bitstring of an ``encodedList``; ValueError when it is not one."""
    if not encoded.startswith("u"):
        raise ValueError("the encoded list lacks the multibase prefix 'u'")
    body = encoded[1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj(wbits=31)  # gzip framing
        bits = inflater.decompress(packed, MAX_STATUS_LIST_BYTES + 1)
    except (binascii.Error, zlib.error) as error:
        raise ValueError("the encoded list is not base64url GZIP data") from error
    if len(bits) > MAX_STATUS_LIST_BYTES:
        raise ValueError("the encoded list is too large")
    return bits


def bit_at(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


# --- verification ---------------------------------------------------------------------------


class FormatError(ValueError):
    """The presented text is not an OpenBadgeCredential VC-JWT; the message says why."""


@dataclass(frozen=True, slots=True)
class Presented:
    """A credential as presented, parsed but not yet trusted."""

    token: str
    claims: dict[str, Any]
    issuer: str
    key_id: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    status_url: str | None
    status_index: int | None
    header: dict[str, Any] = field(repr=False, default_factory=dict)


def _instant(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise FormatError(f"{name} is not a date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FormatError(f"{name} is not an XML Schema date-time") from None
    if parsed.tzinfo is None:
        raise FormatError(f"{name} has no time zone")
    return parsed


def parse(token: str) -> Presented:
    """Read a VC-JWT without trusting it; FormatError says what is malformed."""
    if len(token) > MAX_CREDENTIAL_LENGTH:
        raise FormatError("the credential is too long")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
        payload = jwt.api_jws.PyJWS().decode_complete(token, options={"verify_signature": False})
        claims = json.loads(payload["payload"])
    except (jwt.exceptions.PyJWTError, ValueError, RecursionError):
        raise FormatError("not a compact JWS with a JSON payload") from None
    if header.get("alg") != ALGORITHM:
        raise FormatError("the header's alg is not EdDSA")
    key_id = header.get("kid")
    if not isinstance(key_id, str):
        raise FormatError("the header names no kid")
    if not isinstance(claims, dict):
        raise FormatError("the payload is not a JSON object")
    contexts = claims.get("@context")
    if not isinstance(contexts, list) or contexts[:1] != [VC_CONTEXT] or OB_CONTEXT not in contexts:
        raise FormatError("the @context is not VC 2.0 with the OB 3.0 context")
    types = claims.get("type")
    if not isinstance(types, list) or not {"VerifiableCredential", "OpenBadgeCredential"} <= set(
        types
    ):
        raise FormatError("the type is not VerifiableCredential, OpenBadgeCredential")
    issuer = claims.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str) or claims.get("iss") != issuer_id:
        raise FormatError("the issuer is missing or differs from iss")
    if claims.get("jti") != claims.get("id"):
        raise FormatError("jti differs from the credential id")
    valid_from = _instant(claims.get("validFrom"), "validFrom")
    valid_until = _instant(claims["validUntil"], "validUntil") if "validUntil" in claims else None
    if claims.get("nbf") != int(valid_from.timestamp()) or claims.get("exp") != (
        int(valid_until.timestamp()) if valid_until is not None else None
    ):
        raise FormatError("nbf/exp do not mirror validFrom/validUntil")
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool) or not 0 <= iat < MAX_TIMESTAMP:
        raise FormatError("iat is missing or out of range")
    status_url, status_index = _status_of(claims.get("credentialStatus"))
    return Presented(
        token=token,
        claims=claims,
        issuer=issuer_id,
        key_id=key_id,
        issued_at=datetime.fromtimestamp(iat, UTC),
        valid_from=valid_from,
        valid_until=valid_until,
        status_url=status_url,
        status_index=status_index,
        header=header,
    )


def _status_of(entry: object) -> tuple[str | None, int | None]:
    if entry is None:
        return None, None
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        raise FormatError("credentialStatus is not a BitstringStatusListEntry")
    url, index = entry.get("statusListCredential"), entry.get("statusListIndex")
    if not isinstance(url, str) or not isinstance(index, str) or not _INDEX.fullmatch(index):
        raise FormatError("credentialStatus lacks its list URL or index")
    if entry.get("statusPurpose") != "revocation":
        raise FormatError("credentialStatus is not for revocation")
    return url, int(index)


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """What the issuer publishes under the credential's kid: the key, or why there is none."""

    key: PublishedKey | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class StatusLookup:
    """The credential's status bit: revoked or not, or why it could not be read."""

    revoked: bool | None
    problem: str | None = None


def verify(
    presented: Presented,
    key: KeyLookup,
    status: StatusLookup,
    *,
    now: datetime,
) -> Verification:
    """Each check in order; a check that needs an earlier one which failed is NOT_CHECKED."""
    checks = [Check(CheckKind.FORMAT, Outcome.PASSED, "a VC-JWT OpenBadgeCredential")]
    issuer_key = _issuer_key(presented, key)
    checks.append(issuer_key)
    if issuer_key.outcome is not Outcome.PASSED or key.key is None:
        signature = Check(CheckKind.SIGNATURE, Outcome.NOT_CHECKED, "no key of the issuer")
    else:
        signature = _signature(presented, key.key)
    checks.append(signature)
    if signature.outcome is not Outcome.PASSED:
        reason = "the content is not the issuer's"
        checks.append(Check(CheckKind.VALIDITY_WINDOW, Outcome.NOT_CHECKED, reason))
        checks.append(Check(CheckKind.STATUS, Outcome.NOT_CHECKED, reason))
        return Verification(tuple(checks))
    checks.append(_window(presented, now))
    checks.append(_status(presented, status))
    return Verification(tuple(checks))


def format_failure(reason: str) -> Verification:
    """The verification of a text that did not parse: FORMAT failed, nothing else checked."""
    return Verification(
        (
            Check(CheckKind.FORMAT, Outcome.FAILED, reason),
            *(
                Check(kind, Outcome.NOT_CHECKED, "not a credential")
                for kind in (
                    CheckKind.ISSUER_KEY,
                    CheckKind.SIGNATURE,
                    CheckKind.VALIDITY_WINDOW,
                    CheckKind.STATUS,
                )
            ),
        )
    )


def status_of(encoded_list: str, index: int) -> StatusLookup:
    """The bit at ``index`` of a status list's ``encodedList``, as a verifier reads it."""
    try:
        bits = decode_status_list(encoded_list)
    except ValueError as error:
        return StatusLookup(None, f"the status list is unreadable: {error}")
    if index >= len(bits) * 8:
        return StatusLookup(None, "the status index is past the end of the list")
    return StatusLookup(bit_at(bits, index))


def key_fragment(presented: Presented) -> str | None:
    """The kid's fragment under the issuer URL (``key-1``); None when the kid is not the
    issuer's."""
    prefix = presented.issuer + "#"
    fragment = presented.key_id.removeprefix(prefix)
    return fragment if presented.key_id.startswith(prefix) and fragment else None


def _issuer_key(presented: Presented, key: KeyLookup) -> Check:
    if key_fragment(presented) is None:
        return Check(CheckKind.ISSUER_KEY, Outcome.FAILED, "the kid is not a key of the issuer")
    if key.key is None:
        return Check(CheckKind.ISSUER_KEY, Outcome.FAILED, key.problem or "unknown key")
    retired = key.key.retired_at
    if retired is not None and presented.issued_at > retired:
        return Check(
            CheckKind.ISSUER_KEY, Outcome.FAILED, "signed after the issuer retired the key"
        )
    return Check(CheckKind.ISSUER_KEY, Outcome.PASSED, "a key the issuer publishes")


def _signature(presented: Presented, key: PublishedKey) -> Check:
    try:
        jwt.api_jws.PyJWS().decode_complete(presented.token, key.public_key, algorithms=[ALGORITHM])
    except jwt.exceptions.InvalidSignatureError:
        return Check(
            CheckKind.SIGNATURE, Outcome.FAILED, "the signature does not match the content"
        )
    except jwt.exceptions.PyJWTError:
        return Check(CheckKind.SIGNATURE, Outcome.FAILED, "the signature cannot be checked")
    return Check(CheckKind.SIGNATURE, Outcome.PASSED, "signed by the issuer's key")


def _window(presented: Presented, now: datetime) -> Check:
    if now < presented.valid_from:
        return Check(CheckKind.VALIDITY_WINDOW, Outcome.FAILED, "not valid yet (validFrom)")
    if presented.valid_until is not None and now >= presented.valid_until:
        return Check(CheckKind.VALIDITY_WINDOW, Outcome.FAILED, "expired (validUntil)")
    return Check(CheckKind.VALIDITY_WINDOW, Outcome.PASSED, "within validFrom/validUntil")


def _status(presented: Presented, status: StatusLookup) -> Check:
    if presented.status_url is None:
        return Check(CheckKind.STATUS, Outcome.PASSED, "no status to check")
    if status.revoked is None:
        return Check(CheckKind.STATUS, Outcome.FAILED, status.problem or "status unknown")
    if status.revoked:
        return Check(CheckKind.STATUS, Outcome.FAILED, "revoked by the issuer")
    return Check(CheckKind.STATUS, Outcome.PASSED, "not revoked")
