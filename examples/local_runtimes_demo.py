"""Local runtimes end to end, on loopback servers (no real Ollama or llama-server needed).

    python examples/local_runtimes_demo.py

Starts two Ollama-protocol servers and one llama-server-style OpenAI-compatible server, points llmkit at them with
OLLAMA_HOSTS / OPENAI_COMPATIBLE_HOSTS, lists the discovered models, stops one Ollama server and reloads (its models
go, the others stay), then chats (unary and streaming) with one model of each remaining server.
Run from the repository root (the loopback servers live in tests/servers).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import OllamaServer, OpenAIChatServer


async def chat(identifier: str) -> None:
    from llmkit import LLMFactory

    unary = await LLMFactory.create_llm(identifier).send_user_message("Hello from the demo")
    chunks = [c async for c in LLMFactory.create_llm(identifier).stream_user_message("Hello from the demo")]
    streamed, usage = "".join(c.content for c in chunks), chunks[-1].usage
    assert usage is not None
    print(f"  {identifier}\n    unary : {unary.content!r}  in={unary.usage.input_tokens} "
          f"out={unary.usage.output_tokens} cost=${unary.usage.total_cost}")
    print(f"    stream: {streamed!r}  in={usage.input_tokens} out={usage.output_tokens}"
          f"{' (estimated)' if usage.estimated else ''}")


def main() -> None:
    first, second = OllamaServer().start(), OllamaServer(models=["llama3.2:latest", "gemma3:4b"]).start()
    llama_server = OpenAIChatServer("llamacpp", n_ctx=16384).start()
    try:
        os.environ["OLLAMA_HOSTS"] = f"{first.host},http://{second.host}/v1"
        os.environ["OPENAI_COMPATIBLE_HOSTS"] = f"{llama_server.base_url}/v1"
        os.environ["LMSTUDIO_HOSTS"] = "none"

        from llmkit import LLMFactory
        from llmkit.models import LLMRuntime

        started = time.perf_counter()
        LLMFactory.ensure_initialized()
        print(f"ensure_initialized: {time.perf_counter() - started:.3f}s")
        for model in LLMFactory.list_models():
            if model.runtime.is_local:
                print(f"  {model.identifier:60s} {model.provider.value:8s} ctx={model.context_window} "
                      f"{sorted(model.capabilities)}")

        first.stop()
        started = time.perf_counter()
        count = LLMFactory.reload_models(LLMRuntime.OLLAMA)
        took = time.perf_counter() - started
        hosts = {m.host for m in LLMFactory.list_models(runtime=LLMRuntime.OLLAMA)}
        print(f"stopped {first.host}; reload_models(OLLAMA) -> {count} models on {sorted(hosts)} in {took:.3f}s "
              f"(target < 1 s)")
        assert hosts == {second.host}
        assert len(LLMFactory.list_models(runtime=LLMRuntime.OPENAI_COMPATIBLE)) == 1

        print("chat:")
        asyncio.run(chat(f"llama3.2:latest:ollama@{second.host}"))
        asyncio.run(chat(f"qwen3-4b-q4_k_m.gguf:openai-compatible@{llama_server.host}"))
    finally:
        for server in (first, second, llama_server):
            server.stop()


if __name__ == "__main__":
    main()
