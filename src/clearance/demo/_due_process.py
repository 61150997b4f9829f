"""The demo's due process: an urgent halt and the lab's hearing, an appeal to a panel, notices."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clearance.demo._cast import AGENCIES, ATLAS, HARBOR, PANEL
from clearance.demo._receiver import Receiver

if TYPE_CHECKING:
    from clearance.demo._story import Api

Say = Callable[[str], None]
LAB = f"{ATLAS.name} release team"


def subscribe(api: Api, receiver: Receiver) -> None:
    """Atlas Labs registers its webhook endpoint; the secret is shown this once."""
    endpoint = api.call(
        LAB, "POST", f"/organizations/{api.ids[ATLAS.name]}/webhooks", json={"url": receiver.url}
    )
    receiver.keep_secret(endpoint["secret"])


def halt_and_hear(api: Api, report_id: str, evidence: str, say: Say) -> dict[str, Any]:
    """An urgent halt, the lab's submission at its hearing, the outcome with reasons."""
    halt = api.call(
        "admin",
        "POST",
        "/directives",
        json={
            "action": "halt",
            "model": "atlas-2",
            "grounds": (
                f"Risk report {report_id} alleges exploit capability; halted at once, the lab "
                "to be heard after the act."
            ),
            "urgent": True,
        },
    )
    hearing_id = halt["hearing_id"]
    hearing = api.call("admin", "GET", f"/hearings/{hearing_id}")
    say(f"  urgent halt {halt['id']}: in effect at once; Atlas Labs to be heard by "
        f"{hearing['hold_by'][:10]} (hearing {hearing_id})")  # fmt: skip
    heard = api.call(
        LAB,
        "POST",
        f"/hearings/{hearing_id}/submissions",
        json={
            "text": (
                "The exploits in the report need an expert operator and a patched-out CVE "
                "list; our CTF results show professional-level tasks mostly unsolved."
            ),
            "evidence": [evidence],
        },
    )
    submission = heard["submissions"][-1]
    say(f"  Atlas Labs' submission {submission['id']} cites evidence {evidence[:12]}...")
    agencies = [api.ids[org.name] for org in AGENCIES]
    closed = api.call(
        "admin",
        "POST",
        f"/hearings/{hearing_id}/outcome",
        json={
            "outcome": "modify",
            "reasons": [
                {
                    "text": (
                        "The submission is accepted in part: the exploits need expert "
                        "operators, which vetted federal agencies have and the public does "
                        "not."
                    ),
                    "answers": [submission["id"]],
                },
                {
                    "text": (
                        "Until the classifier patch is verified, use is limited to 600 requests "
                        "a minute per agency."
                    ),
                },
            ],
            "scope": {"organizations": agencies},
            "limits": {"requests_per_minute": 600},
        },
    )
    say(f"  outcome: modify, with reasons answering the submission; directive "
        f"{closed['result_id']} restores atlas-2 to {len(agencies)} federal agencies under "
        "usage limits")  # fmt: skip
    return dict(closed)


def appeal_a_refusal(api: Api, reviewer: str, say: Say) -> None:
    """A partner's refusal: heard first, then appealed to a three-member panel that rules 2-1."""
    partner = f"{HARBOR.name} engineers"
    request = api.call(
        partner,
        "POST",
        "/access-requests",
        json={"model": "meridian-3", "use_case": "general-assistant"},
    )
    proposed = api.call(
        reviewer,
        "POST",
        f"/access-requests/{request['id']}/decision",
        json={
            "granted": False,
            "reasons": "A general assistant is not a case for a partners-only model.",
        },
    )
    hearing = proposed["hearing"]
    heard = api.call(
        partner,
        "POST",
        f"/hearings/{hearing['id']}/submissions",
        json={"text": "Staff use is monitored and limited to compliance questions."},
    )
    submission = heard["submissions"][-1]
    api.call(
        reviewer,
        "POST",
        f"/hearings/{hearing['id']}/outcome",
        json={
            "outcome": "confirm",
            "reasons": [
                {
                    "text": (
                        "Monitoring does not make an all-staff assistant a defensive use; the "
                        "refusal stands."
                    ),
                    "answers": [submission["id"]],
                }
            ],
        },
    )
    say(f"  {HARBOR.name} heard on the refusal of meridian-3; refusal confirmed")
    appeal = api.call(
        partner,
        "POST",
        f"/access-requests/{request['id']}/appeals",
        json={"grounds": "The refusal ignores that use is limited to compliance questions."},
    )
    ruling = panel_rules(
        api,
        appeal["id"],
        (
            ("upheld", "The use case is general; the framework reserves the model for partners."),
            ("upheld", "Compliance questions do not need a partners-only model."),
            ("overturned", "Monitored compliance use could have been granted within limits."),
        ),
    )
    votes = ", ".join(v["vote"] for v in ruling["votes"])
    say(f"  appeal {appeal['id']} ruled by a panel of {len(ruling['panel'])}: {ruling['state']} "
        f"({votes})")  # fmt: skip


def panel_rules(api: Api, appeal_id: str, votes: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The administrator appoints the three judges; each votes with reasons."""
    api.call(
        "admin",
        "POST",
        f"/appeals/{appeal_id}/panel",
        json={"members": [api.ids[judge] for judge in PANEL]},
    )
    ruling: dict[str, Any] = {}
    for judge, (vote, text) in zip(PANEL, votes, strict=True):
        ruling = api.call(
            judge, "POST", f"/appeals/{appeal_id}/votes", json={"vote": vote, "text": text}
        )
    return ruling


def what_the_lab_was_told(api: Api, receiver: Receiver, say: Say, wait: float = 20.0) -> None:
    """Wait until every notice to the lab is out, then print what its receiver heard."""
    path = f"/organizations/{api.ids[ATLAS.name]}/webhooks/messages?state=pending&limit=500"
    deadline = time.monotonic() + wait
    while api.call(LAB, "GET", path)["items"] and time.monotonic() < deadline:
        time.sleep(0.2)
    say(f"What {ATLAS.name} was told, by signed webhook ({len(receiver.notices)} notices, "
        "each signature verified):")  # fmt: skip
    for notice in sorted(receiver.notices, key=lambda n: (n["timestamp"], n["type"])):
        data = notice["data"]
        model = data.get("model", {}).get("name", "")
        say(f"  {notice['timestamp']} {notice['type']}: {data['subject']} {model}".rstrip())
