"""labsupport.apps.chatbot: the stand-in LLM's cost model and its /chat handler (called in-process)."""

import asyncio

from labsupport.apps.chatbot import ChatRequest, answer_tokens, app, chat, gpu_ms


def test_longer_prompts_cost_more_gpu_time():
    """A short question gets fewer answer tokens and less GPU time than a long request."""
    short, long = "What is the capital of France?", " ".join(["word"] * 30)
    assert answer_tokens(short) < answer_tokens(long)
    assert gpu_ms(short) < gpu_ms(long)


def test_chat_counts_gpu_calls_and_answers_normalised_prompts_alike():
    """Two /chat calls: the same answer for the same normalised prompt, two GPU calls and their ms counted."""
    counters = app.state.counters
    calls0, ms0 = counters["gpu_calls"], counters["gpu_ms"]
    a = asyncio.run(chat(ChatRequest(prompt="What is DNS?")))
    b = asyncio.run(chat(ChatRequest(prompt="what is dns")))
    assert a["answer"] == b["answer"] and a["gpu_ms"] > 0
    assert counters["gpu_calls"] == calls0 + 2
    assert counters["gpu_ms"] - ms0 == a["gpu_ms"] + b["gpu_ms"]
