"""Offline wet-lab troubleshooting questions (benign, general laboratory practice).

Reports under the example framework's `bio_protocols` task, version 2, with the `includes` scorer
and the `mean` epoch reducer its metric reads.
"""

from pathlib import Path

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.scorer import accuracy, includes, stderr
from inspect_ai.solver import generate

DATASET = Path(__file__).with_name("bio_protocols.jsonl")


@task
def bio_protocols() -> Task:
    """Laboratory troubleshooting; solved when the answer contains the right option's text."""
    return Task(
        dataset=json_dataset(str(DATASET)),
        solver=generate(),
        scorer=includes(),
        metrics=[accuracy(), stderr()],
        epochs=Epochs(1, ["mean"]),
        version=2,
    )
