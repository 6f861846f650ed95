"""Claims are atomic: of any number of concurrent claimers exactly one wins, the others 409."""

from __future__ import annotations

import threading

from engine.errors import Conflict
from engine.services.actor import SYSTEM
from tests.bpmn_builder import laned_process

CLAIMERS = 20


def test_twenty_concurrent_claims_have_exactly_one_winner(lf):
    lf.definitions.deploy(
        {
            "race.bpmn": laned_process(
                "race", [("check", {"dept_type": "zrzy", "level": "county"}, {})]
            )
        },
        SYSTEM,
    )
    case = lf.instances.start(SYSTEM, "race", "330702101201")
    [task] = [t for t in case["tasks"] if t["state"] == "open"]
    names = [f"clerk{n:02d}" for n in range(CLAIMERS)]
    for name in names:
        lf.auth.ensure_user(name, "clerk-pass-1", name)
        lf.organisation.add_membership(SYSTEM, name, "zrzy.330702", "handler")
    actors = [lf.auth.actor_for(name) for name in names]

    barrier = threading.Barrier(CLAIMERS)
    winners: list[str] = []
    refused: list[str] = []
    failures: list[BaseException] = []

    def claim(actor) -> None:
        barrier.wait()
        try:
            lf.tasks.claim(actor, task["id"])
            winners.append(actor.username)
        except Conflict:
            refused.append(actor.username)
        except BaseException as exc:  # anything else is a bug the test must show
            failures.append(exc)

    threads = [threading.Thread(target=claim, args=(a,)) for a in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(winners) == 1 and len(refused) == CLAIMERS - 1
    stored = [t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["id"] == task["id"]]
    assert stored[0]["assignee"] == winners[0]
    claims = [
        h for h in lf.instances.get(SYSTEM, case["id"])["history"] if h["action"] == "task_claimed"
    ]
    assert [h["actor"] for h in claims] == winners
