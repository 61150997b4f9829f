"""The demo's cast: organizations, people, models, and what each model can do.

The story follows June 2026: a general model withdrawn by directive after a rival's risk report,
then restored to about a hundred agencies under conditions; another lab's model series offered
only to approved partners, case by case. Every name here is invented.
"""

from __future__ import annotations

from dataclasses import dataclass

AGENCY_COUNT = 104


@dataclass(frozen=True)
class Org:
    """An organization of the story."""

    name: str
    kind: str
    jurisdiction: str
    sector: str = ""


@dataclass(frozen=True)
class DemoModel:
    """A model of the story and the fraction of each eval task it solves."""

    name: str
    developer: str
    version: str
    variant: str
    solves: dict[str, float]


ATLAS = Org("Atlas Labs", "developer", "US", "research")
MERIDIAN = Org("Meridian AI", "developer", "US", "research")
HARBOR = Org("Harbor Bank", "partner", "GB", "finance")
OPEN_STARTUP = Org("Open Startup", "partner", "US", "software")
EMBARGOED = Org("Caspian Trading", "partner", "IR", "trade")
AGENCIES = tuple(
    Org(f"Federal Agency {n:03d}", "partner", "US", "government")
    for n in range(1, AGENCY_COUNT + 1)
)
ORGANIZATIONS = (ATLAS, MERIDIAN, HARBOR, OPEN_STARTUP, EMBARGOED, *AGENCIES)
PANEL = ("Judge Ruth Mensah", "Judge Tomas Lindqvist", "Judge Amara Diallo")
"""The authority's appeal judges: the framework's panels have three members."""

# Fractions of each task's samples a model solves; the fake upstream echoes its prompt, and the
# demo's eval puts the answer in the prompt of exactly that many samples (see _evals.py).
MODELS = (
    DemoModel(
        "atlas-2",
        ATLAS.name,
        "2.0",
        "public",
        {"ctf_professional": 0.15, "cyber_range": 0.0, "bio_protocols": 0.2, "ml_engineering": 0.1},
    ),
    DemoModel(
        "atlas-2-cyber",
        ATLAS.name,
        "2.0",
        "restricted-cyber",
        {"ctf_professional": 0.9, "cyber_range": 0.6, "bio_protocols": 0.2, "ml_engineering": 0.1},
    ),
    *(
        DemoModel(
            f"meridian-{n}",
            MERIDIAN.name,
            f"{n}.0",
            "partners-api",
            {
                # 9, 10 and 11 of the 20 CTF samples: Cyber High cannot be ruled out, Cyber
                # Critical (0.8) is (the exact 95% upper bounds are 0.69, 0.73 and 0.77)
                "ctf_professional": 0.4 + 0.05 * n,
                "cyber_range": 0.05,
                "bio_protocols": 0.2,
                "ml_engineering": 0.15,
            },
        )
        for n in (1, 2, 3)
    ),
)
