"""Who is asking: anonymous until a token says otherwise; its territory routes private reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import Unauthenticated


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str | None = None
    territory_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    # The session family the access token belongs to: what `logout` ends.
    session_id: str | None = None
    # When the access token stops being valid; a long-lived WebSocket checks it per operation.
    expires_at: datetime | None = None
    # Until when the Code of Conduct award was valid when the token was issued (None: it was
    # not); the gate asks the database once this has passed (graph/code_of_conduct.py).
    code_of_conduct_until: datetime | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def account(self) -> tuple[str, uuid.UUID]:
        """(territory id, user id) of an authenticated caller; ``Unauthenticated`` otherwise."""
        if self.user_id is None or self.territory_id is None:
            raise Unauthenticated("Log in first.")
        return self.territory_id, uuid.UUID(self.user_id)

    def is_account(self, territory_id: str, user_id: uuid.UUID) -> bool:
        """Whether the caller IS this account: the owner of what it names, nobody else."""
        return self.territory_id == territory_id and self.user_id == str(user_id)

    def session(self) -> uuid.UUID:
        if self.session_id is None:
            raise Unauthenticated("Log in first.")
        return uuid.UUID(self.session_id)


ANONYMOUS = Caller()
