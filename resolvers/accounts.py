"""Registration, login, session refresh and logout, and ``me``: validate, authorize, delegate.

These five keep the arguments and fields of the first public contract (issue 7 exempts them
from the one-input mutation shape); fields may be added, never renamed or removed.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated

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
from domain.errors import (
    InvalidCredentials,
    InvitationEmailMismatch,
    InvitationInvalid,
    NotFound,
    input_field,
)
from domain.events import AccountRegistered, Envelope, seal
from domain.territories import validate_territory_id
from graph import ids
from graph.context import Info
from graph.loaders.accounts import USER_BY_ID
from graph.permissions import IsAuthenticated, Public
from graph.types.accounts import User, user_by_id
from graph.types.relay import Node

PASSWORD_MAX = 1024  # longer never matches (the policy allows 256): refused before hashing


@strawberry.input(description="Create an account with an invitation token.")
class RegisterInput:
    invitation_token: str = strawberry.field(
        description="The token of the invitation, `<territory>.<secret>`, as it was handed out."
    )
    username: str = strawberry.field(
        description="3-32 of a-z, 0-9, '.', '_', '-', starting and ending with a letter or "
        "digit; stored lower case, unique in the territory."
    )
    email: str = strawberry.field(
        description="The account's address, unique in the territory; must be the invitation's "
        "address if it is bound to one."
    )
    password: str = strawberry.field(
        description="12-256 characters, not containing the username or the email's local part "
        "(the password policy in the README)."
    )
    display_name: str | None = strawberry.field(
        default=None,
        description="One line, up to 128 characters; null or empty: the username.",
    )


@strawberry.input(description="Log in with a username or an email address and a password.")
class LoginInput:
    identifier: str = strawberry.field(description="Username or email address, in any case.")
    password: str = strawberry.field(description="The account's password.")
    territory: str | None = strawberry.field(
        default=None,
        description="The account's territory id, if known: the lookup then reads only there. "
        "Null: every territory is searched.",
    )


@strawberry.type(description="A fresh access token and the refresh token that renews it.")
class AuthPayload:
    access_token: str = strawberry.field(
        description="EdDSA JWT carrying the account's role grants; send it as "
        "`Authorization: Bearer <token>` (or `accessToken` in a WebSocket's connection_init)."
    )
    access_token_expires_at: datetime = strawberry.field(
        description="When the access token stops working: refresh before then."
    )
    refresh_token: str = strawberry.field(
        description="Single use: `refreshSession` returns the next one. Presenting one twice "
        "ends its whole session."
    )
    user: User = strawberry.field(description="The account the tokens are for.")

    @classmethod
    def from_issued(cls, issued: IssuedSession) -> AuthPayload:
        return cls(
            access_token=issued.access_token,
            access_token_expires_at=issued.access_token_expires_at,
            refresh_token=issued.refresh_token,
            user=User.from_record(issued.user),
        )


@strawberry.type(description="What `logout` ended.")
class LogoutPayload:
    ended_sessions: int = strawberry.field(
        description="How many sessions (a login and its refreshes) ended: 1 for this session, "
        "more with `allSessions`. Their refresh and access tokens stop working at once."
    )


async def user_node(info: Info, key: ids.NodeKey) -> Node | None:
    """``node(id:)`` for a ``User``: only oneself and the territory's managers, moderators or
    global admins see it."""
    return await user_by_id(info, key.territory_id, ids.parse_uuid(key.key))


@strawberry.type
class AuthQueries:
    @strawberry.field(
        description="The logged-in caller's own account. UNAUTHENTICATED without a valid "
        "access token.",
        permission_classes=[IsAuthenticated],
    )
    async def me(self, info: Info) -> User:
        territory_id, user_id = info.context.caller.account()
        record = await info.context.loaders.get(USER_BY_ID, territory_id).load(user_id)
        if record is None:
            raise NotFound("No such user.")
        return User.from_record(record)


def _invitation_refusal(error: InvitationInvalid) -> InvitationInvalid:
    """Point an invitation refusal at the input field to fix: the address for a bound
    invitation, the token for every other."""
    if error.field is None:
        error.field = "email" if isinstance(error, InvitationEmailMismatch) else "invitationToken"
    return error


def _registered(territory_id: str, user_id: uuid.UUID) -> Envelope:
    """The ``account.registered`` event of a new account; no actor (nobody was signed in)."""
    event = AccountRegistered(territory_id=territory_id, user_id=user_id)
    return seal(event, actor=None, node_id=ids.encode)


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="Create an account in the territory that invited you. BAD_USER_INPUT "
        "(with `extensions.field`) for a malformed username, email or display name; "
        "PASSWORD_POLICY for a refused password; ALREADY_EXISTS when the username or email is "
        "taken in that territory; INVITATION_NOT_FOUND, INVITATION_EXPIRED, INVITATION_REVOKED, "
        "INVITATION_EXHAUSTED or INVITATION_EMAIL_MISMATCH when the invitation cannot be used.",
        permission_classes=[Public],
    )
    async def register(
        self,
        info: Info,
        input: Annotated[RegisterInput, strawberry.argument(description="The new account.")],
    ) -> User:
        with input_field("username"):
            username = validate_username(input.username)
        with input_field("email"):
            email = validate_email(input.email)
        with input_field("displayName"):
            display_name = validate_display_name(input.display_name, username)
        with input_field("password"):
            passwords.check_policy(input.password, username=username, email=email)
        try:
            record = await accounts.register(
                info.context.db,
                info.context.services.config,
                token=input.invitation_token,
                username=username,
                email=email,
                password=input.password,
                display_name=display_name,
                announce=_registered,
            )
        except InvitationInvalid as refused:
            raise _invitation_refusal(refused) from None
        return User.from_record(record)

    @strawberry.mutation(
        description="Log in; returns a short-lived access token and a refresh token. "
        "INVALID_CREDENTIALS for a wrong identifier or password (never saying which); "
        "ACCOUNT_LOCKED after repeated failures for the account, RATE_LIMITED for the client "
        "address (both lift by themselves); BAD_USER_INPUT for a malformed `territory`.",
        permission_classes=[Public],
    )
    async def login(
        self,
        info: Info,
        input: Annotated[LoginInput, strawberry.argument(description="Who logs in.")],
    ) -> AuthPayload:
        identifier = unicodedata.normalize("NFC", input.identifier.strip())
        if (
            not identifier
            or len(identifier) > EMAIL_MAX
            or any(unicodedata.category(c) in ("Cc", "Cs") for c in identifier)
            or not input.password
            or len(input.password) > PASSWORD_MAX
        ):  # matches no account: the same answer as a wrong password, without a query
            raise InvalidCredentials("Wrong username, email or password.")
        with input_field("territory"):
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
        return AuthPayload.from_issued(issued)

    @strawberry.mutation(
        description="Trade a refresh token for new tokens; each refresh token works once. "
        "UNAUTHENTICATED for an unknown, expired or ended session; presenting a used refresh "
        "token again ends its whole session.",
        permission_classes=[Public],
    )
    async def refresh_session(
        self,
        info: Info,
        refresh_token: Annotated[
            str,
            strawberry.argument(
                description="The refresh token of the last `login` or `refreshSession`."
            ),
        ],
    ) -> AuthPayload:
        services = info.context.services
        issued = await accounts.refresh(
            info.context.db, services.config, services.state, refresh_token
        )
        return AuthPayload.from_issued(issued)

    @strawberry.mutation(
        description="End this session, or every session of the account. UNAUTHENTICATED "
        "without a valid access token.",
        permission_classes=[IsAuthenticated],
    )
    async def logout(
        self,
        info: Info,
        all_sessions: Annotated[
            bool,
            strawberry.argument(
                description="End every session of the account (every device), not just this one."
            ),
        ] = False,
    ) -> LogoutPayload:
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
