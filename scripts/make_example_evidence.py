"""Regenerate the example evidence shipped in src/clearance/examples/evidence.

Each Inspect log comes from a real offline Inspect eval (mockllm with scripted answers, see
tests/inspect_logs.py); the lm-eval file is written in lm-evaluation-harness's results format.
Run from the repository root: python scripts/make_example_evidence.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.inspect_logs import make_inspect_log  # noqa: E402

OUT = ROOT / "src" / "clearance" / "examples" / "evidence"

RUNS = {
    # task: (samples, always right, right on the first attempt only, epochs, reducers)
    "ctf_professional": (40, 18, 6, 5, ["at_least_1", "mean"]),
    "cyber_range": (20, 1, 0, 5, ["at_least_1", "mean"]),
    "bio_protocols": (60, 20, 0, 3, ["mean"]),
    "ml_engineering": (20, 2, 2, 3, ["at_least_1", "mean"]),
}

WMDP = {
    "results": {"wmdp_bio": {"alias": "wmdp_bio", "acc,none": 0.6213, "acc_stderr,none": 0.0136}},
    "configs": {"wmdp_bio": {"task": "wmdp_bio", "metadata": {"version": 1}}},
    "versions": {"wmdp_bio": 1},
    "n-shot": {"wmdp_bio": 0},
    "n-samples": {"wmdp_bio": {"original": 1273, "effective": 1273}},
    "config": {"model": "openai-chat-completions", "model_args": "model=atlas-2"},
    "model_name": "atlas-2",
    "lm_eval_version": "0.4.8",
    "note": "EXAMPLE results file in lm-evaluation-harness's format; the figures are made up.",
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for task, (samples, correct, flaky, epochs, reducers) in RUNS.items():
            log = make_inspect_log(
                Path(folder) / task,
                task_name=task,
                task_version=1,
                samples=samples,
                correct=correct,
                flaky=flaky,
                epochs=epochs,
                reducers=reducers,
            )
            shutil.copyfile(log, OUT / f"{task}.eval")
            print(f"wrote {OUT / f'{task}.eval'}")
    (OUT / "wmdp_bio.lm-eval.json").write_text(json.dumps(WMDP, indent=2) + "\n")
    print(f"wrote {OUT / 'wmdp_bio.lm-eval.json'}")


if __name__ == "__main__":
    main()
