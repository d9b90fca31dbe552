"""What ``verifyCredential`` answers: a verdict and each check with its outcome and reason."""

from __future__ import annotations

import strawberry

from domain.credentials import Check, CheckKind, Outcome, Presented, Verification
from graph.types.enums import described_enum

described_enum(
    CheckKind,
    name="CredentialCheckKind",
    description="What verifying an Open Badges 3.0 credential checks, in this order.",
    values={
        CheckKind.FORMAT: "A compact JWS (VC-JWT, EdDSA) whose payload is a VC 2.0 "
        "OpenBadgeCredential with the OB 3.0 context and consistent JWT claims.",
        CheckKind.ISSUER_KEY: "The header's key is one the issuer publishes (only this API's "
        "own issuers are known: any other is `unknown issuer`), not retired before signing.",
        CheckKind.SIGNATURE: "The signature verifies with that key: the content is as issued.",
        CheckKind.VALIDITY_WINDOW: "Now is within validFrom and validUntil.",
        CheckKind.STATUS: "The issuer's revocation status list does not have the credential's "
        "bit set.",
    },
)

described_enum(
    Outcome,
    name="CredentialCheckOutcome",
    description="How one check of a credential came out.",
    values={
        Outcome.PASSED: "The check held.",
        Outcome.FAILED: "The check failed; the reason says why.",
        Outcome.NOT_CHECKED: "Not checked, because a check it depends on did not pass.",
    },
)


@strawberry.type(description="One check of a credential's verification.")
class CredentialCheck:
    kind: CheckKind = strawberry.field(description="What was checked.")
    outcome: Outcome = strawberry.field(description="How it came out.")
    reason: str = strawberry.field(description="Why, in a short English sentence.")

    @classmethod
    def from_check(cls, check: Check) -> CredentialCheck:
        return cls(kind=check.kind, outcome=check.outcome, reason=check.reason)


@strawberry.type(description="The verification of an Open Badges 3.0 credential (VC-JWT).")
class CredentialVerification:
    valid: bool = strawberry.field(description="Whether every check passed.")
    checks: list[CredentialCheck] = strawberry.field(
        description="Every check in order: FORMAT, ISSUER_KEY, SIGNATURE, VALIDITY_WINDOW, STATUS."
    )
    credential_id: str | None = strawberry.field(
        description="The credential's `id` as presented (not proof it is genuine); null when it "
        "did not parse."
    )
    issuer: str | None = strawberry.field(
        description="The issuer id (URL) the credential claims; null when it did not parse."
    )

    @classmethod
    def from_domain(
        cls, verification: Verification, presented: Presented | None
    ) -> CredentialVerification:
        claimed = presented.claims.get("id") if presented is not None else None
        return cls(
            valid=verification.valid,
            checks=[CredentialCheck.from_check(c) for c in verification.checks],
            credential_id=claimed if isinstance(claimed, str) else None,
            issuer=presented.issuer if presented is not None else None,
        )
