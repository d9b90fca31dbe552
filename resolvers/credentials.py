"""Open Badges 3.0 credentials: exporting a badge award, verifying against this API's issuers.

Verifying is a query, not a mutation: it changes nothing and may be repeated, cached or sent over
GET like any read. It takes the house's ``input:`` argument all the same, as its one argument is a
whole document (the credential). Exporting is a mutation: it may create the territory's first
issuer key and allocates the award's status bit, and it is a rare, explicit act of the holder
(one award per call, so its cost, five statements at most, never grows with a list).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from db import badges as badge_db
from db import credentials as credential_db
from db.audit import AuditAction
from db.badges import AwardRecord, VersionText
from domain.accounts import can_read_account
from domain.badges import GLOBAL_HOME, AwardRevoked
from domain.credentials import (
    MAX_CREDENTIAL_LENGTH,
    AwardFacts,
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
from domain.errors import BadUserInput, Forbidden, NotFound
from graph.context import Info
from graph.loaders.badges import AWARD_BY_ID, DEFINITION_VERSION, GLOBAL_DEFINITION_VERSION
from graph.loaders.credentials import ISSUER_KEY, STATUS_LIST
from graph.permissions import IsAuthenticated, Public
from graph.types.badges import BadgeAward
from graph.types.credentials import CredentialVerification
from resolvers.common import key_of, territory_change


@strawberry.input(description="A credential to verify.")
class VerifyCredentialInput:
    credential: str = strawberry.field(
        description="The credential as a compact JWS (VC-JWT, `application/vc+jwt`), at most "
        f"{MAX_CREDENTIAL_LENGTH} characters."
    )


@strawberry.input(description="A badge award to export as a credential.")
class ExportBadgeCredentialInput:
    award: strawberry.ID = strawberry.field(description="The `BadgeAward`, one of your own.")


@strawberry.type(description="The result of `exportBadgeCredential`.")
class ExportBadgeCredentialPayload:
    award: BadgeAward = strawberry.field(description="The award exported.")
    credential: str = strawberry.field(
        description="The award as an Open Badges 3.0 `OpenBadgeCredential` secured as a VC-JWT "
        "(compact JWS, `application/vc+jwt`), signed by the issuer of the holder's territory. "
        "Each export is a new signature (with a fresh salt for the recipient hash); all of an "
        "award's credentials share its revocation bit, so revoking the award revokes them all."
    )


async def _version(info: Info, record: AwardRecord) -> VersionText | None:
    """The definition version the award was given for (not the current one)."""
    key = (record.badge.id, record.version)
    loaders = info.context.loaders
    if record.badge.home == GLOBAL_HOME:
        return await loaders.get_global(GLOBAL_DEFINITION_VERSION).load(key)
    return await loaders.get(DEFINITION_VERSION, record.badge.home).load(key)


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


@strawberry.type
class CredentialMutations:
    @strawberry.mutation(
        description="Export one of your badge awards as an Open Badges 3.0 credential (VC-JWT) "
        "to share with anyone; `verifyCredential` checks it. Only the holder may: the credential "
        "speaks for them (its recipient is their salted hash) and sharing it is their choice, so "
        "not even those who manage the badge export it. The issuer is the holder's territory "
        "(its schema holds the award), whatever the badge's level; the achievement is the "
        "definition version the award was given for. NOT_FOUND for an award you cannot see; "
        "FORBIDDEN for another person's award you see; AWARD_REVOKED (field `award`) for a "
        "revoked award; BAD_USER_INPUT (award) for a malformed id.",
        permission_classes=[IsAuthenticated],
    )
    async def export_badge_credential(
        self,
        info: Info,
        input: Annotated[
            ExportBadgeCredentialInput, strawberry.argument(description="The award to export.")
        ],
    ) -> ExportBadgeCredentialPayload:
        territory_id, award_id = key_of(input.award, "BadgeAward", field="award")
        caller = info.context.caller
        record = await info.context.loaders.get(AWARD_BY_ID, territory_id).load(award_id)
        if record is None or not can_read_account(caller, territory_id, record.user_id):
            raise NotFound("No such award.", field="award")
        if caller.territory_id != territory_id or caller.user_id != str(record.user_id):
            raise Forbidden("Only the holder may export an award.")
        territory = await info.context.loaders.active_territory(territory_id)
        if territory is None:
            raise NotFound("No such award.", field="award")
        async with territory_change(info, territory_id) as change:
            locked = await badge_db.lock_award(change.conn, territory_id, award_id)
            if locked is None:
                raise NotFound("No such award.", field="award")
            if locked.revoked_at is not None:
                raise AwardRevoked("A revoked award is not exported.", field="award")
            version = await _version(info, locked)
            if version is None:
                raise NotFound("No such award.", field="award")
            status = await credential_db.allocate_status_index(change.conn, award_id)
            facts = AwardFacts(
                award_id=award_id,
                recipient_user_id=locked.user_id,
                recipient_territory_id=territory_id,
                definition_id=locked.badge.id,
                version=locked.version,
                name=version.name,
                description=version.description,
                criteria=version.criteria,
                image_url=version.image,
                issuer_territory_id=territory_id,
                issuer_name=territory.name,
                awarded_at=locked.awarded_at,
                valid_from=locked.valid_from,
                valid_until=locked.valid_until,
                status=status,
            )
            credential = await credential_db.issue_credential(
                change.conn, facts, public_url=info.context.public_url
            )
            change.audit(
                AuditAction.BADGE_CREDENTIAL_EXPORTED,
                target=str(award_id),
                details={"status_list": status.list_no, "status_index": status.index},
            )
        return ExportBadgeCredentialPayload(
            award=BadgeAward.from_record(locked, info.context.clock()), credential=credential
        )
