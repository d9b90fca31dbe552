"""Who is asking: anonymous until a token says otherwise; its territory routes private reads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str | None = None
    territory_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Caller()
