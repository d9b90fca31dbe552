"""Social links refuse addresses a browser would take for a private host, however spelled."""

from __future__ import annotations

import pytest

from domain.errors import BadUserInput
from domain.profiles import validate_social_link


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("custom", "https://127.1/"),
        ("custom", "https://0x7f.1/"),
        ("custom", "https://10.0.0.010/"),
        ("custom", "https://0177.0.0.1/"),
        ("mastodon", "https://192.168.1/@me"),
        ("mastodon", "https://1.2.3.0x4/@me"),
    ],
)
def test_links_refuse_every_ipv4_spelling_a_browser_accepts(platform: str, url: str) -> None:
    with pytest.raises(BadUserInput):
        validate_social_link(platform, url, "label")


def test_links_still_accept_names_with_digits() -> None:
    assert validate_social_link("custom", "https://1password.com/x", "pw")[1]
    assert validate_social_link("mastodon", "https://mastodon.0x.social/@me", None)[1]
