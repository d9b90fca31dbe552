"""Registration, login, session refresh and logout, and ``me``: validate, authorize, delegate."""

from __future__ import annotations

import unicodedata

import strawberry

from db import accounts
from db.accounts import IssuedSession
from domain import passwords
from domain.accounts import (
    EMAIL_MAX,
    validate_display_name,
    validate_email,
    validate_username,
)
from domain.errors import InvalidCredentials, InvitationInvalid
from domain.territories import validate_territory_id
from graph.context import Info
from graph.permissions import IsAuthenticated, Public
from graph.types.accounts import AuthPayload, LoginInput, LogoutPayload, RegisterInput, User
from graph.types.invitations import InvitationCheck


def _payload(issued: IssuedSession) -> AuthPayload:
    return AuthPayload(
        access_token=issued.access_token,
        access_token_expires_at=issued.access_token_expires_at,
        refresh_token=issued.refresh_token,
        user=User.from_record(issued.user),
    )


@strawberry.type
class AuthQueries:
    @strawberry.field(
        description="The logged-in caller's own account.", permission_classes=[IsAuthenticated]
    )
    async def me(self, info: Info) -> User:
        territory_id, user_id = info.context.caller.account()
        record = await accounts.user_by_id(info.context.db, territory_id, user_id)
        return User.from_record(record)

    @strawberry.field(
        description="Whether an invitation token can be used to register (for a signup page).",
        permission_classes=[Public],
    )
    async def validate_invitation(self, info: Info, token: str) -> InvitationCheck:
        try:
            found = await accounts.check_invitation(info.context.db, token)
        except InvitationInvalid as refused:
            return InvitationCheck(
                valid=False,
                code=refused.code,
                territory=None,
                email_required=False,
                expires_at=None,
            )
        return InvitationCheck(
            valid=True,
            code=None,
            territory=found.territory_id,
            email_required=found.email is not None,
            expires_at=found.expires_at,
        )


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="Create an account in the territory that invited you.",
        permission_classes=[Public],
    )
    async def register(self, info: Info, input: RegisterInput) -> User:
        username = validate_username(input.username)
        email = validate_email(input.email)
        display_name = validate_display_name(input.display_name, username)
        passwords.check_policy(input.password, username=username, email=email)
        record = await accounts.register(
            info.context.db,
            info.context.services.config,
            token=input.invitation_token,
            username=username,
            email=email,
            password=input.password,
            display_name=display_name,
        )
        return User.from_record(record)

    @strawberry.mutation(
        description="Log in; returns a short-lived access token and a refresh token.",
        permission_classes=[Public],
    )
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        identifier = unicodedata.normalize("NFC", input.identifier.strip())
        if (
            not identifier
            or len(identifier) > EMAIL_MAX
            or any(unicodedata.category(c) in ("Cc", "Cs") for c in identifier)
            or not input.password
            or len(input.password) > 1024
        ):  # matches no account: the same answer as a wrong password, without a query
            raise InvalidCredentials("Wrong username, email or password.")
        territory = None if input.territory is None else validate_territory_id(input.territory)
        services = info.context.services
        issued = await accounts.login(
            info.context.db,
            services.config,
            services.state,
            territory_id=territory,
            identifier=identifier,
            password=input.password,
            client_ip=services.client_ip(info.context.request),
        )
        return _payload(issued)

    @strawberry.mutation(
        description="Trade a refresh token for new tokens; each refresh token works once.",
        permission_classes=[Public],
    )
    async def refresh_session(self, info: Info, refresh_token: str) -> AuthPayload:
        services = info.context.services
        issued = await accounts.refresh(
            info.context.db, services.config, services.state, refresh_token
        )
        return _payload(issued)

    @strawberry.mutation(
        description="End this session, or every session of the account.",
        permission_classes=[IsAuthenticated],
    )
    async def logout(self, info: Info, all_sessions: bool = False) -> LogoutPayload:
        territory_id, user_id = info.context.caller.account()
        services = info.context.services
        ended = await accounts.logout(
            info.context.db,
            services.config,
            services.state,
            territory_id=territory_id,
            user_id=user_id,
            session_id=info.context.caller.session(),
            all_sessions=all_sessions,
        )
        return LogoutPayload(ended_sessions=ended)
