"""Verifying Open Badges 3.0 credentials against this API's own issuers.

A query, not a mutation: verifying changes nothing and may be repeated, cached or sent over GET
like any read. It takes the house's ``input:`` argument all the same, as its one argument is a
whole document (the credential).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from domain.credentials import (
    MAX_CREDENTIAL_LENGTH,
    FormatError,
    KeyLookup,
    Presented,
    StatusLookup,
    Urls,
    format_failure,
    key_fragment,
    parse,
    status_of,
    verify,
)
from domain.errors import BadUserInput
from graph.context import Info
from graph.loaders.credentials import ISSUER_KEY, STATUS_LIST
from graph.permissions import Public
from graph.types.credentials import CredentialVerification


@strawberry.input(description="A credential to verify.")
class VerifyCredentialInput:
    credential: str = strawberry.field(
        description="The credential as a compact JWS (VC-JWT, `application/vc+jwt`), at most "
        f"{MAX_CREDENTIAL_LENGTH} characters."
    )


async def _key(info: Info, urls: Urls, presented: Presented) -> tuple[str | None, KeyLookup]:
    """The issuer's territory (when it is one of ours) and the key the credential names."""
    territory_id = urls.territory_of_issuer(presented.issuer)
    if territory_id is None or await info.context.loaders.active_territory(territory_id) is None:
        return None, KeyLookup(None, "unknown issuer")
    fragment = key_fragment(presented)
    if fragment is None:
        return territory_id, KeyLookup(None, "the kid is not a key of the issuer")
    found = await info.context.loaders.get(ISSUER_KEY, territory_id).load(fragment)
    return territory_id, KeyLookup(found, None if found else "the issuer publishes no such key")


async def _status(info: Info, urls: Urls, territory_id: str, presented: Presented) -> StatusLookup:
    if presented.status_url is None or presented.status_index is None:
        return StatusLookup(None)
    where = urls.status_list_of(presented.status_url)
    if where is None or where[0] != territory_id:
        return StatusLookup(None, "the status list is not the issuer's")
    encoded = await info.context.loaders.get(STATUS_LIST, territory_id).load(where[1])
    if encoded is None:
        return StatusLookup(None, "the status list is not published")
    return status_of(encoded, presented.status_index)


@strawberry.type
class CredentialQueries:
    @strawberry.field(
        description="Verify an Open Badges 3.0 credential (VC-JWT) issued by one of this API's "
        "territories: format, issuer key, signature, validity window and revocation status, each "
        "with its outcome and reason. Never an error for a bad credential: `valid: false` says "
        "which check failed. Issuers other than this API's are `unknown issuer`. "
        "BAD_USER_INPUT (field `credential`) for a text over the length limit.",
        permission_classes=[Public],
    )
    async def verify_credential(
        self,
        info: Info,
        input: Annotated[
            VerifyCredentialInput, strawberry.argument(description="The credential to verify.")
        ],
    ) -> CredentialVerification:
        if len(input.credential) > MAX_CREDENTIAL_LENGTH:
            raise BadUserInput(
                f"A credential is at most {MAX_CREDENTIAL_LENGTH} characters.", field="credential"
            )
        try:
            presented = parse(input.credential)
        except FormatError as error:
            return CredentialVerification.from_domain(format_failure(str(error)), None)
        urls = Urls(info.context.public_url)
        territory_id, key = await _key(info, urls, presented)
        status = (
            await _status(info, urls, territory_id, presented)
            if territory_id is not None and key.key is not None
            else StatusLookup(None, "unknown issuer")
        )
        verification = verify(presented, key, status, now=datetime.now(UTC))
        return CredentialVerification.from_domain(verification, presented)
