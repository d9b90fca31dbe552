"""The accounts area's workflows, which span a territory's server and ``global`` on the main one:
registration (``registration.py``), login (``login.py``), refresh and logout (``sessions.py``),
and what they share (``core.py``). Invitations and role grants have areas of their own
(``db/invitations.py``, ``db/roles.py``).

The package re-exports its public names, so callers write ``from db import accounts`` and
``accounts.login(...)`` without knowing which module holds a workflow.
"""

from db.accounts.core import AuthConfig, IssuedSession, active_territory, user_by_id
from db.accounts.login import find_credentials, login, throttle_subjects
from db.accounts.registration import invitation_grants, register
from db.accounts.sessions import logout, refresh

__all__ = [
    "AuthConfig",
    "IssuedSession",
    "active_territory",
    "find_credentials",
    "invitation_grants",
    "login",
    "logout",
    "refresh",
    "register",
    "throttle_subjects",
    "user_by_id",
]
