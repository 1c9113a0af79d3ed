"""An OpenAI-compatible server around :class:`~airoadmap.batching.BatchingEngine` (14), and the plumbing around it.

    app = make_app(engine, sse_event=sse_event, chat_chunk=chat_chunk, model_name="triage")
    with serve(app) as base_url:                  # uvicorn in a thread, 127.0.0.1, a free port, stopped on exit
        OpenAI(base_url=base_url + "/v1", api_key="none").chat.completions.create(...)

Routes: ``GET /health``, ``GET /v1/models``, ``GET /metrics`` (Prometheus text) and ``POST /v1/chat/completions``,
non-streaming or streaming (Server-Sent Events in OpenAI's chunk format, ending ``data: [DONE]``). 14's
learner writes the two functions that make an SSE chunk (``sse_event``, ``chat_chunk``): they are passed in.

Metrics, named the Prometheus way (``_total`` counters, ``_seconds`` histograms), on a registry of the app's
own (two servers in one process do not mix): ``llm_time_to_first_token_seconds``,
``llm_inter_token_latency_seconds``, ``llm_request_duration_seconds``, ``llm_prompt_tokens_total``,
``llm_generation_tokens_total``, ``llm_requests_total{status}``, ``llm_queue_depth``, ``llm_running_sequences``.
Every request writes one JSON log line (``request_id``, ``status``, token counts, ``start``/``first_token``/``end``
on the server's clock) to the ``airoadmap.serving`` logger, ``log_path`` if given, and ``app.state.request_log``.

Ports: :func:`free_port` asks the kernel for one; :func:`listening_ports` reads ``/proc/net/tcp`` and ``tcp6``,
so a test can check that nothing was left listening.
"""

import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from pathlib import Path

LOOPBACK = "127.0.0.1"
logger = logging.getLogger("airoadmap.serving")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def listening_ports() -> set[int]:
    """Ports with a listening TCP socket on this machine (any address), from ``/proc/net/tcp`` and ``tcp6``."""
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(name, encoding="ascii") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) > 3 and fields[3] == "0A":  # TCP_LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_until_up(url: str, timeout: float = 60.0, process=None) -> None:
    """Poll ``url`` until it answers 200; a TimeoutError after ``timeout`` seconds (or when ``process`` exits)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server process exited with code {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def serve(app, port: int | None = None):
    """Run an ASGI ``app`` with uvicorn (one worker, in a daemon thread) on 127.0.0.1; yield its base URL;
    stop it when the block ends, whatever happens."""
    import uvicorn

    config = uvicorn.Config(app, host=LOOPBACK, port=port or free_port(), log_level="warning", access_log=False,
                            loop="asyncio", http="h11", lifespan="off", workers=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {config.port}")
            time.sleep(0.05)
        yield f"http://{LOOPBACK}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class ServingMetrics:
    """The server's Prometheus metrics, on a registry of its own."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        fast = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
        slow = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
        self.ttft = Histogram("llm_time_to_first_token_seconds", "Arrival to first generated token", buckets=slow,
                              registry=self.registry)
        self.itl = Histogram("llm_inter_token_latency_seconds", "Time between two tokens of one stream", buckets=fast,
                             registry=self.registry)
        self.duration = Histogram("llm_request_duration_seconds", "Arrival to last token", buckets=slow,
                                  registry=self.registry)
        self.prompt_tokens = Counter("llm_prompt_tokens", "Prompt tokens prefilled", registry=self.registry)
        self.generation_tokens = Counter("llm_generation_tokens", "Tokens generated", registry=self.registry)
        self.requests = Counter("llm_requests", "Chat completion requests by HTTP status", ["status"],
                                registry=self.registry)
        self.queue_depth = Gauge("llm_queue_depth", "Sequences waiting to be scheduled", registry=self.registry)
        self.running = Gauge("llm_running_sequences", "Sequences in the running batch", registry=self.registry)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text -> ``{"name{labels}": value}`` (samples only), for reading any server's ``/metrics``."""
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                samples[key.strip()] = float(value)
    return samples


class _Stream:
    """Carries one request's tokens from the engine thread to its asyncio handler."""

    def __init__(self, loop, tokenizer):
        import asyncio

        self.loop, self.tokenizer, self.queue = loop, tokenizer, asyncio.Queue()
        self.text, self.times = "", []

    def on_token(self, seq, token):
        self.times.append(time.time())
        text = self.tokenizer.decode(seq.output, skip_special_tokens=True)
        if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
            return
        delta, self.text = text[len(self.text):], text
        self.loop.call_soon_threadsafe(self.queue.put_nowait, ("token", delta))

    def on_finish(self, seq):
        self.loop.call_soon_threadsafe(self.queue.put_nowait, ("finish", seq.finish_reason))


def _error(status: int, message: str):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": None}}, status)


def make_app(engine, *, sse_event, chat_chunk, model_name: str = "triage", log_path: str | Path | None = None,
             metrics: ServingMetrics | None = None, context_length: int = 2048):
    """The FastAPI app of 14's server (see the module docstring); ``engine`` must be started."""
    import asyncio

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response, StreamingResponse

    metrics = metrics or engine.metrics or ServingMetrics()
    engine.metrics = metrics
    app = FastAPI(title="Fjordly triage server")
    app.state.request_log, app.state.metrics = [], metrics
    tokenizer = engine.tokenizer

    def log(entry: dict) -> None:
        app.state.request_log.append(entry)
        line = json.dumps(entry)
        logger.info(line)
        if log_path is not None:
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    @app.get("/health")
    async def health():
        if engine.error is not None:
            return JSONResponse({"status": "error", "error": repr(engine.error)}, 503)
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": model_name, "object": "model", "created": 0, "owned_by": "you"}]}

    @app.get("/metrics")
    async def prometheus():
        from prometheus_client import CONTENT_TYPE_LATEST
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        start, request_id = time.time(), request.headers.get("x-request-id") or f"chatcmpl-{uuid.uuid4().hex[:24]}"
        entry = {"event": "chat.completion", "request_id": request_id, "start": start}
        try:
            body = await request.json()
            messages = body["messages"]
            prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                   return_dict=False)
            max_tokens = int(body.get("max_completion_tokens") or body.get("max_tokens") or 64)
            if len(prompt) + max_tokens > context_length:
                raise ValueError(f"{len(prompt)} prompt tokens + max_tokens {max_tokens} exceed {context_length}")
            stream = _Stream(asyncio.get_running_loop(), tokenizer)
            seq = engine.submit(prompt, max_tokens, float(body.get("temperature", 1.0)), stream.on_token,
                                stream.on_finish)
        except (KeyError, TypeError, ValueError) as e:
            metrics.requests.labels(status="400").inc()
            log({**entry, "status": 400, "error": str(e)[:200], "end": time.time()})
            return _error(400, f"bad request: {e}")
        created, streaming = int(start), bool(body.get("stream"))
        metrics.prompt_tokens.inc(len(prompt))
        headers = {"x-request-id": request_id}

        def done(reason):
            end = time.time()
            ttft = stream.times[0] - start if stream.times else None
            if ttft is not None:
                metrics.ttft.observe(ttft)
            for a, b in zip(stream.times, stream.times[1:], strict=False):
                metrics.itl.observe(b - a)
            metrics.duration.observe(end - start)
            metrics.generation_tokens.inc(len(seq.output))
            status = 500 if reason == "error" else 200
            metrics.requests.labels(status=str(status)).inc()
            log({**entry, "status": status, "stream": streaming, "prompt_tokens": len(prompt),
                 "completion_tokens": len(seq.output), "finish_reason": reason,
                 "first_token": stream.times[0] if stream.times else None, "end": end,
                 "ttft_s": ttft, "duration_s": end - start})

        if not streaming:
            while (item := await stream.queue.get())[0] != "finish":
                pass
            done(item[1])
            usage = {"prompt_tokens": len(prompt), "completion_tokens": len(seq.output),
                     "total_tokens": len(prompt) + len(seq.output)}
            return JSONResponse({"id": request_id, "object": "chat.completion", "created": created, "model": model_name,
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": stream.text},
                                              "finish_reason": item[1]}], "usage": usage}, headers=headers)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def events():
            reason = None
            try:
                yield sse_event(chat_chunk(request_id, model_name, created, {"role": "assistant", "content": ""}))
                while (item := await stream.queue.get())[0] != "finish":
                    if item[1]:
                        yield sse_event(chat_chunk(request_id, model_name, created, {"content": item[1]}))
                reason = item[1]
                yield sse_event(chat_chunk(request_id, model_name, created, {}, reason))
                if include_usage:
                    yield sse_event({"id": request_id, "object": "chat.completion.chunk", "created": created,
                                     "model": model_name, "choices": [],
                                     "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(seq.output),
                                               "total_tokens": len(prompt) + len(seq.output)}})
                yield sse_event("[DONE]")
            finally:
                if reason is None:  # the client went away: stop generating for it
                    seq.cancelled = True
                done(reason or "cancelled")

        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    return app
