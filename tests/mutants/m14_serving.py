"""Plausible wrong answers for 14-serving. Each must fail at least one test cell.

``CORRECT`` holds right answers written differently: each must pass every test of its exercise.
"""

SUMMARY = '''
def latency_summary(logs):
    ok = [r for r in logs if {ok}]
    ttft = [r["first_token"] - r["start"] for r in ok if r["first_token"] is not None]
    latency = [{latency} for r in ok]
    pct = lambda values, q: {pct} if values else float("nan")
    tokens = sum(r["completion_tokens"] for r in {token_rows})
    span = {span} if logs else 0.0
    return {{"requests": len(logs), "errors": {errors}, "ttft_p50": pct(ttft, 50), "ttft_p95": pct(ttft, 95),
            "latency_p50": pct(latency, 50), "latency_p95": pct(latency, 95),
            "tokens_per_second": {tps}}}
'''
S_OK = dict(ok='r["status"] == 200', latency='r["end"] - r["start"]', pct="float(np.percentile(values, q))",
            token_rows="ok", span='max(r["end"] for r in logs) - min(r["start"] for r in logs)',
            errors="len(logs) - len(ok)", tps="tokens / span if tokens and span > 0 else 0.0")


def summary(**changes):
    return SUMMARY.format(**{**S_OK, **changes})


KV = '''
def kv_bytes_per_token(config, dtype_bytes):
    head_dim = {head_dim}
    return {per_token}


def max_sequences(config, gpu_bytes, weight_bytes, tokens_per_sequence, dtype_bytes=2):
    free = {free}
    return {count}
'''
K_OK = dict(head_dim='getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads',
            per_token="2 * config.num_hidden_layers * config.num_key_value_heads * head_dim * dtype_bytes",
            free="gpu_bytes - weight_bytes",
            count="max(0, free // (kv_bytes_per_token(config, dtype_bytes) * tokens_per_sequence))")


def kv(**changes):
    return KV.format(**{**K_OK, **changes})


SCHEDULE = '''
def schedule(waiting, running, max_batch, token_budget):
    {prelude}
    running = [seq for seq in running if {stays}]
    budget = token_budget - {decode_cost}
    admitted = []
    for seq in {order}:
        if {full} or len(seq.prompt) > budget:
            {stop}
        admitted.append(seq)
        budget -= len(seq.prompt)
    return {result}
'''
SC_OK = dict(prelude="pass", stays="not seq.finished", decode_cost="len(running)", order="waiting",
             full="len(running) + len(admitted) >= max_batch", stop="break", result="running + admitted, admitted")


def sched(**changes):
    return SCHEDULE.format(**{**SC_OK, **changes})


SSE = '''
def sse_event(payload):
    data = {data}
    return {frame}


def chat_chunk(request_id, model, created, delta, finish_reason=None):
    return {chunk}
'''
E_OK = dict(data="payload if isinstance(payload, str) else json.dumps(payload)",
            frame='f"data: {data}\\n\\n".encode("utf-8")',
            chunk='{"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model, '
                  '"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}')


def sse(**changes):
    return SSE.format(**{**E_OK, **changes})


SLOTS = '''
def slots_needed(arrival_rate, mean_latency, utilization=1.0):
    if {check}:
        raise ValueError("bad arguments")
    return {value}
'''
L_OK = dict(check="arrival_rate < 0 or mean_latency < 0 or not 0 < utilization <= 1",
            value="max(1, math.ceil(arrival_rate * mean_latency / utilization))")


def slots(**changes):
    return SLOTS.format(**{**L_OK, **changes})


MUTANTS = {
    "latency_summary": {
        "failed requests in the percentiles": summary(ok="True", errors="sum(r['status'] != 200 for r in logs)"),
        "the median as the mean": summary(pct="float(np.mean(values)) if q == 50 else float(np.percentile(values, q))"),
        "nearest-rank percentiles": summary(pct="float(sorted(values)[min(len(values) - 1, int(q / 100 * len(values)))])"),
        "tokens/s over the summed latencies": summary(span="sum(r['end'] - r['start'] for r in ok)"),
        "tokens/s per request, averaged": summary(
            tps="float(np.mean([r['completion_tokens'] / (r['end'] - r['start']) for r in ok])) if ok else 0.0"),
        "the span of the successful requests only": summary(
            span="max(r['end'] for r in ok) - min(r['start'] for r in ok) if ok else 0.0"),
        "the span from the first and last record (assumes sorted logs)": summary(span="logs[-1]['end'] - logs[0]['start']"),
        "failed requests' tokens counted": summary(token_rows="logs"),
        "latency from the first token": summary(latency='r["end"] - (r["first_token"] or r["start"])'),
        "no guard for an empty list": summary(pct="float(np.percentile(values, q))").replace(
            ' if values else float("nan")', ""),
    },
    "kv_capacity": {
        "keys only (no factor 2)": kv(per_token="config.num_hidden_layers * config.num_key_value_heads * head_dim * dtype_bytes"),
        "attention heads instead of KV heads": kv(
            per_token="2 * config.num_hidden_layers * config.num_attention_heads * head_dim * dtype_bytes"),
        "the hidden size instead of KV heads x head_dim": kv(
            per_token="2 * config.num_hidden_layers * config.hidden_size * dtype_bytes"),
        "head_dim always from hidden_size": kv(head_dim="config.hidden_size // config.num_attention_heads"),
        "bits, not bytes": kv(per_token="2 * config.num_hidden_layers * config.num_key_value_heads * head_dim * dtype_bytes * 8"),
        "the weights not subtracted": kv(free="gpu_bytes"),
        "rounded instead of floored": kv(count="max(0, round(free / (kv_bytes_per_token(config, dtype_bytes) * tokens_per_sequence)))"),
        "negative when the weights do not fit": kv(count="free // (kv_bytes_per_token(config, dtype_bytes) * tokens_per_sequence)"),
        "a float count": kv(count="max(0, free / (kv_bytes_per_token(config, dtype_bytes) * tokens_per_sequence))"),
    },
    "schedule": {
        "static batching: admits only into an empty batch": sched(
            full="len(running) > 0 or len(admitted) >= max_batch"),
        "finished sequences kept": sched(stays="True"),
        "finished sequences dropped but their decode tokens still counted": sched(
            prelude="staying_cost = len(running)", decode_cost="staying_cost"),
        "running sequences cost nothing from the budget": sched(decode_cost="0"),
        "overtaking: skips a prompt that does not fit": sched(stop="continue"),
        "one over the batch limit": sched(full="len(running) + len(admitted) > max_batch"),
        "last in, first out": sched(order="reversed(waiting)"),
        "admitted sequences placed first": sched(result="admitted + running, admitted"),
        "changes the lists passed in": sched(result="running + admitted, admitted").replace(
            "    return running + admitted, admitted",
            "    for seq in admitted:\n        waiting.remove(seq)\n    return running + admitted, admitted"),
        "the budget does not shrink as prompts are admitted": sched().replace("        budget -= len(seq.prompt)\n", ""),
        "returns only the admitted sequences as running": sched(result="admitted, admitted"),
    },
    "sse_chunks": {
        "one newline ends an event": sse(frame='f"data: {data}\\n".encode("utf-8")'),
        "no data: field name": sse(frame='f"{data}\\n\\n".encode("utf-8")'),
        "a Python repr instead of JSON": sse(data="payload if isinstance(payload, str) else str(payload)"),
        "a string, not bytes": sse(frame='f"data: {data}\\n\\n"'),
        "raw text encoded as latin-1": sse(data="payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)",
                                           frame='f"data: {data}\\n\\n".encode("latin-1", errors="replace")'),
        "[DONE] quoted as JSON": sse(data="json.dumps(payload)"),
        "a chat.completion object, not a chunk": sse(chunk='{"id": request_id, "object": "chat.completion", "created": created, '
                                                         '"model": model, "choices": [{"index": 0, "delta": delta, '
                                                         '"finish_reason": finish_reason}]}'),
        "message instead of delta": sse(chunk='{"id": request_id, "object": "chat.completion.chunk", "created": created, '
                                              '"model": model, "choices": [{"index": 0, "message": delta, '
                                              '"finish_reason": finish_reason}]}'),
        "finish_reason left out until the end": sse(
            chunk='{"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model, '
                  '"choices": [dict(index=0, delta=delta, **({"finish_reason": finish_reason} if finish_reason else {}))]}'),
        "the delta flattened into the choice": sse(
            chunk='{"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model, '
                  '"choices": [{"index": 0, **delta, "finish_reason": finish_reason}]}'),
        "each event's data split over lines (newlines in the text)": sse(
            data="payload if isinstance(payload, str) else json.dumps(payload, indent=1)"),
    },
    "slots_needed": {
        "rounded, not ceiled": slots(value="max(1, round(arrival_rate * mean_latency / utilization))"),
        "floored": slots(value="max(1, int(arrival_rate * mean_latency / utilization))"),
        "utilization multiplies": slots(value="max(1, math.ceil(arrival_rate * mean_latency * utilization))"),
        "rate divided by latency": slots(value="max(1, math.ceil(arrival_rate / mean_latency / utilization))"),
        "no floor of one slot": slots(value="math.ceil(arrival_rate * mean_latency / utilization)"),
        "always one extra slot": slots(value="int(arrival_rate * mean_latency / utilization) + 1"),
        "no checks of the arguments": slots(check="False"),
        "utilization 1.0 refused": slots(check="arrival_rate < 0 or mean_latency < 0 or not 0 < utilization < 1"),
    },
}

CORRECT = {
    "latency_summary": {
        "numpy arrays and np.quantile": '''
def latency_summary(logs):
    status = np.array([r["status"] for r in logs])
    good = [r for r, s in zip(logs, status) if s == 200]
    ttft = np.array([r["first_token"] - r["start"] for r in good if r["first_token"] is not None])
    lat = np.array([r["end"] - r["start"] for r in good])
    q = lambda a, p: float(np.quantile(a, p / 100)) if a.size else math.nan
    t0 = min((r["start"] for r in logs), default=0.0)
    t1 = max((r["end"] for r in logs), default=0.0)
    tokens = sum(r["completion_tokens"] for r in good)
    return dict(requests=len(logs), errors=int((status != 200).sum()), ttft_p50=q(ttft, 50), ttft_p95=q(ttft, 95),
                latency_p50=q(lat, 50), latency_p95=q(lat, 95),
                tokens_per_second=tokens / (t1 - t0) if tokens else 0.0)
''',
        "percentiles by hand (linear between ranks)": '''
def _percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    rank = (len(values) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def latency_summary(logs):
    ok = [r for r in logs if r["status"] == 200]
    first = [r["first_token"] - r["start"] for r in ok if r["first_token"] is not None]
    total = [r["end"] - r["start"] for r in ok]
    span = (max(r["end"] for r in logs) - min(r["start"] for r in logs)) if logs else 0
    tokens = sum(r["completion_tokens"] for r in ok)
    return {"requests": len(logs), "errors": sum(r["status"] != 200 for r in logs),
            "ttft_p50": _percentile(first, 50), "ttft_p95": _percentile(first, 95),
            "latency_p50": _percentile(total, 50), "latency_p95": _percentile(total, 95),
            "tokens_per_second": tokens / span if span and tokens else 0.0}
''',
    },
    "kv_capacity": {
        "head_dim read with hasattr; divmod for the count": '''
def kv_bytes_per_token(config, dtype_bytes):
    if hasattr(config, "head_dim") and config.head_dim is not None:
        head_dim = config.head_dim
    else:
        head_dim = config.hidden_size // config.num_attention_heads
    keys = config.num_hidden_layers * config.num_key_value_heads * head_dim * dtype_bytes
    return keys + keys


def max_sequences(config, gpu_bytes, weight_bytes, tokens_per_sequence, dtype_bytes=2):
    if gpu_bytes <= weight_bytes:
        return 0
    count, _ = divmod(gpu_bytes - weight_bytes, kv_bytes_per_token(config, dtype_bytes) * tokens_per_sequence)
    return int(count)
''',
    },
    "schedule": {
        "a while loop over an index": '''
def schedule(waiting, running, max_batch, token_budget):
    keep = [s for s in running if not s.finished]
    left = token_budget - len(keep)
    new = []
    i = 0
    while i < len(waiting) and len(keep) + len(new) < max_batch and len(waiting[i].prompt) <= left:
        left -= len(waiting[i].prompt)
        new.append(waiting[i])
        i += 1
    return keep + new, new
''',
        "itertools.takewhile with a running total": '''
def schedule(waiting, running, max_batch, token_budget):
    import itertools
    staying = list(filter(lambda s: not s.finished, running))
    room = max(0, max_batch - len(staying))
    spent = itertools.accumulate(len(s.prompt) for s in waiting)
    fits = [s for s, total in itertools.takewhile(lambda p: p[1] <= token_budget - len(staying), zip(waiting, spent))]
    admitted = fits[:room]
    return staying + admitted, admitted
''',
    },
    "sse_chunks": {
        "bytes joined by hand, compact JSON": '''
def sse_event(payload):
    body = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return b"data: " + body.encode() + b"\\n\\n"


def chat_chunk(request_id, model, created, delta, finish_reason=None):
    choice = {"index": 0, "delta": dict(delta), "finish_reason": finish_reason}
    return dict(id=request_id, object="chat.completion.chunk", created=created, model=model, choices=[choice])
''',
    },
    "slots_needed": {
        "integer ceiling by negated floor division": '''
def slots_needed(arrival_rate, mean_latency, utilization=1.0):
    if min(arrival_rate, mean_latency) < 0 or utilization <= 0 or utilization > 1:
        raise ValueError("arguments out of range")
    return int(max(1, -(-(arrival_rate * mean_latency) // utilization)))
''',
    },
}
