"""What every account workflow shares: the process's auth configuration, the session it hands
out, and the lookups that route an account to its territory's server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher

from db import territories as registry
from db import users
from db.engines import Database
from db.territories import TerritoryRecord
from db.users import UserRecord
from domain import passwords
from domain.accounts import identity_hash
from domain.errors import NotFound
from domain.territories import TerritoryStatus
from domain.tokens import KeySet
from unityplan.settings import MAIN_SERVER


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """What the workflows need besides the databases; built once per process."""

    keys: KeySet
    identity_key: bytes
    access_ttl: timedelta
    refresh_ttl: timedelta
    # New password hashes at this cost (PASSWORD_HASHING); stored ones verify at their own.
    hasher: PasswordHasher = passwords.HASHERS["standard"]

    def __repr__(self) -> str:
        return f"AuthConfig(keys={self.keys!r})"

    def identity(self, territory_id: str, user_id: uuid.UUID) -> bytes:
        return identity_hash(self.identity_key, territory_id, user_id)

    def access_ttl_seconds(self) -> int:
        """How long Redis must remember an ended session or a revoked grant: until every access
        token issued before it has expired by itself."""
        return max(1, int(self.access_ttl.total_seconds()))


@dataclass(frozen=True, slots=True)
class IssuedSession:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    user: UserRecord

    def __repr__(self) -> str:
        return f"IssuedSession(user={self.user!r})"


async def active_territory(db: Database, territory_id: str) -> TerritoryRecord | None:
    async with db.connect(MAIN_SERVER) as conn:
        record = (await registry.by_ids(conn, [territory_id])).get(territory_id)
    if record is None or record.status is not TerritoryStatus.ACTIVE:
        return None
    return record


async def user_by_id(db: Database, territory_id: str, user_id: uuid.UUID) -> UserRecord:
    territory = await active_territory(db, territory_id)
    if territory is None:
        raise NotFound("No such user.")
    async with db.connect(territory.db_server, territory_id) as conn:
        found = (await users.by_ids(conn, territory_id, [user_id])).get(user_id)
    if found is None:
        raise NotFound("No such user.")
    return found
