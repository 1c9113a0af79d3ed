"""The same training step on several processes: DistributedDataParallel under ``torchrun`` (15).

A tiny regression MLP on seeded synthetic data, trained with a ``DistributedSampler`` and DDP, so
that the arithmetic can be checked on a laptop: on CPU the ``gloo`` backend does what ``nccl`` does
between GPUs. Run it as a script, the way one runs any training job on a cluster::

    torchrun --nproc_per_node 2 --master_addr 127.0.0.1 --master_port 29511 \\
        -m airoadmap.ddp --per-process-batch 8 --steps 8 --out losses.json

or from a notebook, bounded and on a free loopback port::

    two = launch(2, per_process_batch=8)   # 2 processes x 8 examples per step
    one = train(per_process_batch=16)      # 1 process x 16, in this process (no process group)

Each step every process takes its own ``per_process_batch`` examples (the sampler gives each rank a
disjoint share of one seeded permutation), computes the mean loss on them, and DDP all-reduces the
gradients (their mean over processes) during ``backward``: every process then holds the same gradient,
the mean over the ``world_size * per_process_batch`` examples of the step, and takes the same step.
Rank 0 writes ``{"world_size", "per_process_batch", "global_batch", "losses", "grad_spread",
"param_spread"}``; ``losses`` is the mean loss over every process's examples, step by step, and the
spreads are the largest difference between processes (0.0 when the all-reduce did its job).

Which batch each process must take for a given global batch is 15's exercise, not computed here.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

N_EXAMPLES, N_FEATURES, HIDDEN = 512, 16, 32


def _data(seed: int):
    import torch

    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N_EXAMPLES, N_FEATURES, generator=g)
    w = torch.randn(N_FEATURES, 1, generator=g)
    y = torch.tanh(X @ w) + 0.1 * torch.randn(N_EXAMPLES, 1, generator=g)
    return torch.utils.data.TensorDataset(X, y)


def _model(seed: int):
    import torch

    torch.manual_seed(seed)  # the same initial weights in every process (DDP also broadcasts rank 0's)
    return torch.nn.Sequential(torch.nn.Linear(N_FEATURES, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 1))


def train(per_process_batch: int, steps: int = 8, lr: float = 0.1, seed: int = 0, out: str | None = None) -> dict:
    """Train for ``steps`` SGD steps of ``per_process_batch`` examples per process; return (and, on rank 0,
    write to ``out``) the record described in the module docstring. Under ``torchrun`` (``WORLD_SIZE`` > 1)
    it joins the ``gloo`` process group; otherwise it is an ordinary single-process run."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, DistributedSampler

    world = int(os.environ.get("WORLD_SIZE", "1"))
    distributed = world > 1
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    try:
        data = _data(seed)
        sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=True)
        loader = DataLoader(data, batch_size=per_process_batch, sampler=sampler, drop_last=True)
        model = _model(seed)
        if distributed:
            model = DDP(model)  # broadcasts rank 0's weights, then all-reduces gradients in backward
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        losses, grad_spread, epoch = [], 0.0, 0
        while len(losses) < steps:
            sampler.set_epoch(epoch)  # a new permutation each epoch, the same on every rank
            for X, y in loader:
                optimizer.zero_grad()
                loss = torch.nn.functional.mse_loss(model(X), y)  # the mean over this process's examples
                loss.backward()  # DDP: gradients all-reduced (averaged over processes) here
                grads = torch.cat([p.grad.flatten() for p in model.parameters()])
                grad_spread = max(grad_spread, _spread(grads, distributed))
                optimizer.step()
                mean_loss = loss.detach().clone()
                if distributed:
                    dist.all_reduce(mean_loss)  # sum over processes ...
                    mean_loss /= world          # ... divided by their number: the loss over the global batch
                losses.append(float(mean_loss))
                if len(losses) == steps:
                    break
            epoch += 1
        params = torch.cat([p.detach().flatten() for p in model.parameters()])
        record = {"world_size": world, "per_process_batch": per_process_batch,
                  "global_batch": world * per_process_batch, "losses": losses, "grad_spread": grad_spread,
                  "param_spread": _spread(params, distributed)}
        if rank == 0 and out:
            Path(out).write_text(json.dumps(record, indent=1) + "\n")
        return record
    finally:
        if distributed:
            dist.barrier()  # every rank done with its collectives: gloo aborts a process torn down mid-way
            dist.destroy_process_group()


def _spread(values, distributed: bool) -> float:
    """The largest difference between processes' copies of ``values`` (0.0 in one process)."""
    import torch
    import torch.distributed as dist

    if not distributed:
        return 0.0
    copies = [torch.empty_like(values) for _ in range(dist.get_world_size())]
    dist.all_gather(copies, values)
    return max(float((c - copies[0]).abs().max()) for c in copies)


def launch(nproc: int, per_process_batch: int, steps: int = 8, lr: float = 0.1, seed: int = 0,
           workdir: str | os.PathLike = ".", timeout: float = 180.0) -> dict:
    """Run :func:`train` under ``torchrun --nproc_per_node nproc`` (one CPU thread per process, rendezvous on
    127.0.0.1 at a free port), wait for it (at most ``timeout`` seconds, then the processes are killed) and
    return rank 0's record. Raises RuntimeError with torchrun's output when it fails."""
    from .serving import free_port

    out = Path(workdir) / f"ddp-{nproc}x{per_process_batch}.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
               "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "airoadmap.ddp",
               f"--per-process-batch={per_process_batch}", f"--steps={steps}", f"--lr={lr}", f"--seed={seed}",
               f"--out={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:  # subprocess.run killed torchrun; its workers die with it
        raise RuntimeError(f"torchrun did not finish within {timeout:.0f} s") from e
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"torchrun exited with code {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="DDP on CPU (gloo): a tiny MLP, one record of its losses.")
    parser.add_argument("--per-process-batch", type=int, required=True, help="examples per process per step")
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    parser.add_argument("--seed", type=int, default=0, help="data, initial weights and sampler order")
    parser.add_argument("--out", default="ddp.json", help="where rank 0 writes its record (JSON)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    train(args.per_process_batch, steps=args.steps, lr=args.lr, seed=args.seed, out=args.out)


if __name__ == "__main__":
    main()
    # The process group is destroyed and the record written: leave without the interpreter's teardown. On CPU,
    # gloo's threads sometimes abort it ("terminate called without an active exception", SIGABRT, about 1 run
    # in 10 here), which torchrun then reports as a failed job.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
