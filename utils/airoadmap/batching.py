"""Continuous batching: the sequences, a simulator with known step costs, and an engine on a real model (14).

The vocabulary is nano-vllm's and vLLM's: a request becomes a :class:`Sequence`; the scheduler
decides, once per iteration, which waiting sequences join the running batch; the model runner
then prefills the new ones and decodes one token for each of the others. 14's learner writes the
scheduler's step (a function, passed in), with this signature::

    def schedule(waiting, running, max_batch, token_budget) -> (running, admitted): ...

* :func:`simulate` drives a scheduler against a fake step whose cost is known (a fixed part, one
  part per prefill token, one per sequence in the batch), on a clock of its own: static batching
  (``schedule=None``: a batch is formed, and runs until its last sequence ends) against continuous.
* :class:`BatchingEngine` drives the same scheduler on a real causal LM, in a background thread:
  each sequence owns its KV cache (a buffer of ``len(prompt) + max_new_tokens`` positions per
  layer); a decode step left-pads the running sequences' caches into one batch, runs one forward
  pass for all of them and writes each new key/value back to its own sequence (while the batch stays
  the same from one step to the next, the previous step's batched cache is reused as it is). With
  ``prefix_cache=True`` (vLLM's automatic prefix caching, llama.cpp's ``cache_prompt``) the keys and
  values of each 16-token block of a prompt are kept, keyed by the block and everything before it,
  so the next prompt that starts the same way (the same system prompt) prefills only the rest.

It never holds the scheduler itself: that is the exercise.
"""
from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

_ids = itertools.count()
BLOCK = 16  # tokens per prefix-cache block


@dataclass(eq=False)  # compared by identity: two requests with the same prompt are two sequences
class Sequence:
    """One request's state. The scheduler reads ``prompt`` (its prefill costs ``len(prompt)`` tokens) and
    ``finished``; the engine fills the rest."""

    prompt: list[int]
    max_new_tokens: int
    id: str = field(default_factory=lambda: f"seq-{next(_ids)}")
    arrival: float = 0.0
    temperature: float = 0.0
    output: list[int] = field(default_factory=list)
    finished: bool = False
    finish_reason: str | None = None
    first_token_at: float | None = None
    finished_at: float | None = None
    on_token: Callable | None = field(default=None, repr=False)   # on_token(seq, token_id), engine thread
    on_finish: Callable | None = field(default=None, repr=False)  # on_finish(seq), engine thread
    kv: object = field(default=None, repr=False)   # (layers, 2, kv_heads, capacity, head_dim) once prefilled
    length: int = 0                                 # positions of kv filled
    cancelled: bool = False

    def __repr__(self) -> str:
        return (f"Sequence({self.id}, prompt={len(self.prompt)} tokens, output={len(self.output)}/"
                f"{self.max_new_tokens}{', finished' if self.finished else ''})")


def _check_step(waiting, running, result, max_batch, token_budget):
    """The scheduler's answer, checked for what would stall the engine: a clear error instead of a hang."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"schedule must return (running, admitted), got {type(result).__name__}")
    new_running, admitted = result
    known = {id(s) for s in waiting}
    if any(id(s) not in known for s in admitted):
        raise ValueError("schedule admitted a sequence that was not waiting")
    if len(new_running) > max_batch:
        raise ValueError(f"schedule returned {len(new_running)} running sequences, more than max_batch={max_batch}")
    if any(s.finished for s in new_running):
        raise ValueError("schedule kept a finished sequence in the running batch (finished ones leave at once)")
    if not new_running and waiting and len(waiting[0].prompt) <= token_budget:
        raise ValueError("schedule left the batch empty although the first waiting sequence fits the budget")
    return list(new_running), list(admitted)


def simulate(requests: list[tuple[float, int, int]], schedule=None, *, max_batch: int = 8, token_budget: int = 512,
             step_base: float = 0.02, per_prefill_token: float = 5e-4, per_sequence: float = 2e-3) -> list[dict]:
    """Serve ``requests`` ``(arrival seconds, prompt tokens, new tokens)`` on a fake model; return one record per
    request (``start``, ``first_token``, ``end``, ``completion_tokens``, ``status``), in request order.

    Each iteration costs ``step_base + per_prefill_token * prefilled tokens + per_sequence * batch size``
    seconds of the simulated clock and gives one token to every running sequence (a prefilled one gets
    its first). ``schedule=None`` is static batching: up to ``max_batch`` waiting sequences start together
    once the batch is empty, and the batch runs until its last sequence ends.
    """
    seqs = [Sequence(prompt=[0] * p, max_new_tokens=n, arrival=a) for a, p, n in requests]
    pending = sorted(seqs, key=lambda s: s.arrival)
    waiting, running, now = [], [], 0.0
    while pending or waiting or running:
        while pending and pending[0].arrival <= now:
            waiting.append(pending.pop(0))
        if not waiting and not running:
            now = pending[0].arrival
            continue
        if schedule is None:
            if all(s.finished for s in running):
                running, admitted = waiting[:max_batch], waiting[:max_batch]
            else:
                admitted = []
        else:
            running, admitted = _check_step(waiting, running, schedule(list(waiting), list(running), max_batch,
                                                                       token_budget), max_batch, token_budget)
        waiting = [s for s in waiting if all(s is not a for a in admitted)]
        now += step_base + per_prefill_token * sum(len(s.prompt) for s in admitted) + per_sequence * len(running)
        for s in running:
            if s.finished:
                continue
            s.output.append(0)
            s.first_token_at = s.first_token_at or now
            if len(s.output) >= s.max_new_tokens:
                s.finished, s.finished_at = True, now
        if schedule is None and running and all(s.finished for s in running):
            running = []
    return [{"request_id": s.id, "start": s.arrival, "first_token": s.first_token_at, "end": s.finished_at,
             "completion_tokens": len(s.output), "status": 200} for s in seqs]


class BatchingEngine:
    """Continuous batching on a causal LM (``model``, ``tokenizer``), with ``schedule`` choosing each iteration's
    batch. ``start()`` runs the step loop in a daemon thread; ``submit()`` is thread-safe; ``stop()`` ends it.

    ``token_budget`` caps the tokens one iteration computes (prefills + one per decoding sequence); a prompt
    longer than the budget could never be scheduled, so :meth:`submit` refuses it (``ValueError``).
    """

    def __init__(self, model, tokenizer, schedule, *, max_batch: int = 8, token_budget: int = 512,
                 metrics=None, seed: int = 0, prefix_cache: bool = True, cache_blocks: int = 256):
        import torch

        self.model, self.tokenizer, self.schedule = model.eval(), tokenizer, schedule
        self.max_batch, self.token_budget, self.metrics = max_batch, token_budget, metrics
        config = model.config
        self.layers, self.kv_heads = config.num_hidden_layers, config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.device, self.dtype = next(model.parameters()).device, next(model.parameters()).dtype
        eos = model.generation_config.eos_token_id
        self.eos = set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id}
        self.generator = torch.Generator(device="cpu").manual_seed(seed)
        self.inbox: queue.Queue = queue.Queue()
        self.waiting: list[Sequence] = []
        self.running: list[Sequence] = []
        self.steps = 0
        self.prefix_cache = OrderedDict() if prefix_cache else None  # (tokens up to the block's end) -> its kv
        self.cache_blocks, self.cached_tokens, self.prefilled_tokens = cache_blocks, 0, 0
        self.error: BaseException | None = None
        self._last = None  # (ids of the last decoded batch, its output cache, its attention mask)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the public side ------------------------------------------------------------------------------
    def submit(self, prompt: list[int], max_new_tokens: int, temperature: float = 0.0, on_token=None,
               on_finish=None) -> Sequence:
        if len(prompt) > self.token_budget:
            raise ValueError(f"a prompt of {len(prompt)} tokens is longer than the token budget ({self.token_budget})")
        if self.error is not None or self._thread is None:
            raise RuntimeError(f"the engine is not running ({self.error!r})")
        seq = Sequence(prompt=list(prompt), max_new_tokens=max_new_tokens, arrival=time.monotonic(),
                       temperature=temperature, on_token=on_token, on_finish=on_finish)
        self.inbox.put(seq)
        return seq

    def start(self) -> BatchingEngine:
        self._thread = threading.Thread(target=self._loop, name="batching-engine", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.inbox.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def __enter__(self) -> BatchingEngine:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the step loop ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        import torch

        try:
            with torch.inference_mode():
                while not self._stop.is_set():
                    self._drain(block=not self.waiting and not self.running)
                    if self.waiting or self.running:
                        self.step()
        except BaseException as e:  # noqa: BLE001 - a broken scheduler fails every request, then the engine stops
            self.error = e
            for seq in self.waiting + self.running:
                self._finish(seq, "error")

    def _drain(self, block: bool) -> None:
        try:
            item = self.inbox.get(timeout=0.5) if block else self.inbox.get_nowait()
            while True:
                if item is not None:
                    self.waiting.append(item)
                item = self.inbox.get_nowait()
        except queue.Empty:
            pass

    def step(self) -> None:
        """One iteration: schedule, prefill the admitted sequences, decode one token for the others."""
        for seq in self.running:
            if seq.cancelled and not seq.finished:
                self._finish(seq, "cancelled")
        self.running, admitted = _check_step(self.waiting, self.running, self.schedule(
            list(self.waiting), list(self.running), self.max_batch, self.token_budget), self.max_batch,
            self.token_budget)
        self.waiting = [s for s in self.waiting if all(s is not a for a in admitted)]
        if self.metrics is not None:
            self.metrics.queue_depth.set(len(self.waiting))
            self.metrics.running.set(len(self.running))
        decoding = [s for s in self.running if not s.finished and all(s is not a for a in admitted)]
        for seq in admitted:
            self._prefill(seq)
        if decoding:
            self._decode(decoding)
        self.steps += 1

    def _prefill(self, seq: Sequence) -> None:
        import torch
        from transformers import DynamicCache

        n = len(seq.prompt)
        seq.kv = torch.zeros(self.layers, 2, self.kv_heads, n + seq.max_new_tokens, self.head_dim,
                             dtype=self.dtype, device=self.device)
        hit = 0  # reuse cached blocks of this prompt's beginning; the last token is always computed (its logits)
        while self.prefix_cache is not None and hit + BLOCK < n and (key := tuple(seq.prompt[:hit + BLOCK])) in \
                self.prefix_cache:
            self.prefix_cache.move_to_end(key)
            seq.kv[:, :, :, hit:hit + BLOCK] = self.prefix_cache[key]
            hit += BLOCK
        past = DynamicCache(ddp_cache_data=[(seq.kv[i, 0, :, :hit][None], seq.kv[i, 1, :, :hit][None])
                                            for i in range(self.layers)]) if hit else None
        out = self.model(input_ids=torch.tensor([seq.prompt[hit:]], device=self.device), past_key_values=past,
                         use_cache=True)
        for i, layer in enumerate(out.past_key_values.layers):
            seq.kv[i, 0, :, :n], seq.kv[i, 1, :, :n] = layer.keys[0], layer.values[0]
        seq.length = n
        self.cached_tokens, self.prefilled_tokens = self.cached_tokens + hit, self.prefilled_tokens + n - hit
        if self.prefix_cache is not None:
            for end in range(hit + BLOCK, n + 1, BLOCK):
                self.prefix_cache[tuple(seq.prompt[:end])] = seq.kv[:, :, :, end - BLOCK:end].clone()
            while len(self.prefix_cache) > self.cache_blocks:
                self.prefix_cache.popitem(last=False)
        self._append(seq, self._sample(out.logits[0, -1], seq))

    def _decode(self, batch: list[Sequence]) -> None:
        import torch
        from transformers import DynamicCache

        if self._last is not None and self._last[0] == [id(s) for s in batch]:
            _, cache, mask = self._last  # the same sequences as last step: its output cache is this step's input
            mask = torch.cat([mask, mask.new_ones(len(batch), 1)], dim=1)
        else:  # the batch changed: left-pad every sequence's own cache into one (newest position last)
            longest = max(s.length for s in batch)
            past = torch.empty(self.layers, 2, len(batch), self.kv_heads, longest, self.head_dim,
                               dtype=self.dtype, device=self.device)
            mask = torch.zeros(len(batch), longest + 1, dtype=torch.long, device=self.device)
            for i, s in enumerate(batch):
                past[:, :, i, :, :longest - s.length] = 0
                past[:, :, i, :, longest - s.length:] = s.kv[:, :, :, :s.length]
                mask[i, longest - s.length:] = 1
            cache = DynamicCache(ddp_cache_data=[(past[i, 0], past[i, 1]) for i in range(self.layers)])
        out = self.model(input_ids=torch.tensor([[s.output[-1]] for s in batch], device=self.device),
                         attention_mask=mask,
                         position_ids=torch.tensor([[s.length] for s in batch], device=self.device),
                         past_key_values=cache, use_cache=True)
        layers = out.past_key_values.layers
        newest = torch.stack([torch.stack([layer.keys[:, :, -1], layer.values[:, :, -1]]) for layer in layers])
        for j, s in enumerate(batch):  # newest: (layers, 2, batch, kv_heads, head_dim), one position per sequence
            s.kv[:, :, :, s.length] = newest[:, :, j]
            s.length += 1
            self._append(s, self._sample(out.logits[j, -1], s))
        self._last = ([id(s) for s in batch], out.past_key_values, mask) if not any(s.finished for s in batch) else None

    def _sample(self, logits, seq: Sequence) -> int:
        import torch

        if seq.temperature <= 0:
            return int(logits.argmax())
        probs = torch.softmax(logits.float().cpu() / seq.temperature, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self.generator))

    def _append(self, seq: Sequence, token: int) -> None:
        if token in self.eos:
            self._finish(seq, "stop")
            return
        seq.output.append(token)
        seq.first_token_at = seq.first_token_at or time.monotonic()
        if seq.on_token is not None:
            seq.on_token(seq, token)
        if len(seq.output) >= seq.max_new_tokens:
            self._finish(seq, "length")

    def _finish(self, seq: Sequence, reason: str) -> None:
        if seq.finished:
            return
        seq.finished, seq.finish_reason, seq.finished_at = True, reason, time.monotonic()
        seq.kv = None  # free the cache at once; the scheduler drops the sequence at the next step
        if seq.on_finish is not None:
            seq.on_finish(seq)
