"""Access tokens on their own: issue, verify, key rotation, audience, no private key in reprs."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.errors import Unauthenticated
from domain.tokens import KeySet, generate_key


def test_token_roundtrip_and_refusals() -> None:
    keys = KeySet([generate_key("k1")], active_kid="k1", issuer="i", audience="a")
    uid, sid = uuid.uuid4(), uuid.uuid4()
    token, expires = keys.issue(
        user_id=uid,
        territory_id="dk",
        roles=["member:dk"],
        session_id=sid,
        ttl=timedelta(minutes=5),
    )
    claims = keys.verify(token)
    assert (claims.user_id, claims.territory_id, claims.session_id) == (uid, "dk", sid)
    assert claims.roles == ("member:dk",)
    assert claims.expires_at == expires
    caller = claims.caller()
    assert caller.is_authenticated
    assert caller.territory_id == "dk"
    # Rotation: a new active key; tokens of the old one still verify while it is listed.
    rotated = KeySet(
        [keys._keys["k1"], generate_key("k2")],
        active_kid="k2",
        issuer="i",
        audience="a",
    )
    assert rotated.verify(token).user_id == uid
    other_audience = KeySet([keys._keys["k1"]], active_kid="k1", issuer="i", audience="b")
    with pytest.raises(Unauthenticated):
        other_audience.verify(token)
    assert "PRIVATE" not in repr(keys)
    assert "PRIVATE" not in repr(keys._keys["k1"])
