"""The Code of Conduct: versioned text every active account must accept, and renew yearly.

Accepting it awards the global core badge ``code_of_conduct`` (valid
365 days). Without a valid award an account can only read ``me``, read this text
and accept it; every other operation fails with ``CODE_OF_CONDUCT_REQUIRED``
(graph/code_of_conduct.py). A new version of the text is a new entry in :data:`TEXTS`; awards
given for an earlier version stay valid until they expire, and renewal accepts the current one.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.badges import CODE_OF_CONDUCT
from domain.errors import BadUserInput, UserFacingError

CORE_KEY = CODE_OF_CONDUCT.key
DEFAULT_LANGUAGE = "en"


class CodeOfConductRequired(UserFacingError):
    code = "CODE_OF_CONDUCT_REQUIRED"


TEXTS: Mapping[int, Mapping[str, str]] = {
    1: {
        "en": (
            "UnityPlan Code of Conduct, version 1.\n\n"
            "1. Treat every person with respect, whatever their territory, language or belief.\n"
            "2. No harassment, threats, hate speech or discrimination.\n"
            "3. Share what you have the right to share; respect others' privacy settings.\n"
            "4. Disagree with ideas, never attack people.\n"
            "5. Help keep the platform safe: report harm to moderators.\n"
            "Breaking this code may cost you badges and access. The code is renewed yearly."
        ),
        "da": (
            "UnityPlans adfærdskodeks, version 1.\n\n"
            "1. Behandl alle mennesker med respekt, uanset territorium, sprog eller tro.\n"
            "2. Ingen chikane, trusler, hadefuld tale eller diskrimination.\n"
            "3. Del kun det, du har ret til at dele; respekter andres privatlivsindstillinger.\n"
            "4. Vær uenig i idéer, angrib aldrig mennesker.\n"
            "5. Hjælp med at holde platformen sikker: anmeld skade til moderatorerne.\n"
            "Brud på kodekset kan koste dig badges og adgang. Kodekset fornyes hvert år."
        ),
    },
}
"""Text by version, then by language (BCP 47 primary tag)."""

CURRENT_VERSION = max(TEXTS)


def text_of(version: int, language: str) -> tuple[str, str]:
    """(language served, text) of ``version``: the language asked for, else English."""
    texts = TEXTS.get(version)
    if texts is None:
        raise BadUserInput(f"No Code of Conduct version {version}.", field="version")
    primary = language.split("-", 1)[0].lower()
    served = primary if primary in texts else DEFAULT_LANGUAGE
    return served, texts[served]


def check_accepted_version(version: int) -> int:
    """Only the current version can be accepted: a client showing an older text must reload."""
    if version != CURRENT_VERSION:
        raise BadUserInput(
            f"Version {version} is not the current Code of Conduct; read and accept version "
            f"{CURRENT_VERSION}.",
            field="version",
        )
    return version
