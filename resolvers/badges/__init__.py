"""Root fields of the badges area: the catalogue and node lookups (``catalogue.py``), defining
and editing badges (``definitions.py``), awarding and revoking them (``awards.py``)."""

from resolvers.badges.awards import BadgeAwardMutations, award
from resolvers.badges.catalogue import BadgeQueries, award_node, badge_node
from resolvers.badges.definitions import BadgeMutations

__all__ = [
    "BadgeAwardMutations",
    "BadgeMutations",
    "BadgeQueries",
    "award",
    "award_node",
    "badge_node",
]
