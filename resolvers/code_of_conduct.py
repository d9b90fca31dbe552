"""Reading and accepting the Code of Conduct: what an account without it may still do (with
``me``; graph/code_of_conduct.py gates everything else)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.badges import CODE_OF_CONDUCT_REF
from domain.code_of_conduct import CURRENT_VERSION, TEXTS, check_accepted_version, text_of
from domain.errors import NotFound
from graph import badge_access
from graph.context import Info
from graph.permissions import IsAuthenticated, Public
from graph.types.badges import BadgeAward, CodeOfConduct
from resolvers.badges import award


@strawberry.type
class CodeOfConductQueries:
    @strawberry.field(
        description="The Code of Conduct in a language (English when it has no translation); "
        "anyone may read it. BAD_USER_INPUT (version) for an unknown version.",
        permission_classes=[Public],
    )
    def code_of_conduct(
        self,
        language: Annotated[
            str, strawberry.argument(description="A BCP 47 tag, e.g. `da` or `en-GB`.")
        ] = "en",
        version: Annotated[
            int | None,
            strawberry.argument(description="A version; null: the current one."),
        ] = None,
    ) -> CodeOfConduct:
        wanted = CURRENT_VERSION if version is None else version
        served, text = text_of(wanted, language)
        return CodeOfConduct(
            version=wanted,
            language=served,
            text=text,
            languages=sorted(TEXTS[wanted]),
            current_version=CURRENT_VERSION,
        )


@strawberry.input(description="Which version of the Code of Conduct you accept.")
class AcceptCodeOfConductInput:
    version: int = strawberry.field(description="The current version (`codeOfConduct.version`).")


@strawberry.type(description="The result of `acceptCodeOfConduct`.")
class AcceptCodeOfConductPayload:
    award: BadgeAward = strawberry.field(
        description="Your Code of Conduct badge, valid for 365 days from now."
    )
    renewed: bool = strawberry.field(
        description="True when you had accepted before: the badge was renewed."
    )


@strawberry.type
class CodeOfConductMutations:
    @strawberry.mutation(
        description="Accept the Code of Conduct: awards (or renews) your Code of Conduct badge "
        "for 365 days; access is restored at once. UNAUTHENTICATED without a token; "
        "BAD_USER_INPUT (version) unless it is the current version.",
        permission_classes=[IsAuthenticated],
    )
    async def accept_code_of_conduct(
        self,
        info: Info,
        input: Annotated[
            AcceptCodeOfConductInput, strawberry.argument(description="The version you accept.")
        ],
    ) -> AcceptCodeOfConductPayload:
        version = check_accepted_version(input.version)
        definition = await badge_access.definition(info, CODE_OF_CONDUCT_REF)
        if definition is None:  # provisioned by `unityplan migrate`
            raise NotFound("The Code of Conduct badge is not provisioned.")
        record, renewed = await award(
            info,
            definition,
            info.context.caller.account(),
            source="accepted",
            reason=f"Code of Conduct version {version}",
        )
        return AcceptCodeOfConductPayload(
            award=BadgeAward.from_record(record, info.context.clock()), renewed=renewed
        )
