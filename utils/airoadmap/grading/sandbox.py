"""The grading kernel's sandbox and resource limits.

A student's notebook runs in a Jupyter kernel named ``airoadmap-grader``, whose kernelspec
(written by :func:`write_kernelspec` into a folder on ``JUPYTER_PATH``) starts *this file* as a
script, not as a module, so that only the standard library is imported before the kernel::

    python .../grading/sandbox.py {connection_file}

The script reads its :class:`Policy` from the ``AIROADMAP_SANDBOX`` variable, sets the limits
(``RLIMIT_DATA`` for memory, a cap on file sizes, no core dumps) and ``exec``s either

* ``bwrap`` (bubblewrap): new user, pid, network, ipc and uts namespaces, no capabilities, and a
  file system made of read-only binds of the interpreter, its packages and the system folders,
  a private ``/tmp``, and exactly two writable folders: the kernel's working folder (the
  student's own autograded copy) and the folder of its connection file (the kernel talks to
  nbgrader over ``ipc`` sockets there, so it needs no network at all); or
* with ``mode="none"``, the kernel itself with the same limits and environment, but no isolation.

Everything not bound is invisible: the solutions, the gradebook, other students' submissions,
the home folder. Per-cell and whole-notebook time limits are enforced by the grader
(:mod:`.worker`), which kills the kernel's process group.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
from dataclasses import asdict, dataclass, field

KERNEL_NAME = "airoadmap-grader"
ENV_VAR = "AIROADMAP_SANDBOX"
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; it is in `make bootstrap`)"


@dataclass
class Policy:
    mode: str = "bwrap"          # "bwrap" or "none"
    memory_mb: int = 8192        # RLIMIT_DATA: heap and anonymous maps (module 01 peaks at ~1.1 GB)
    threads: int = 1             # torch/OpenMP threads for this kernel
    max_file_mb: int = 1024      # largest file the kernel may write
    python: str = sys.executable
    readonly: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def readonly_paths() -> list[str]:
    """What the kernel must be able to read: system folders, the interpreter, site-packages and
    the source folders of editable installs (the course package), nothing else."""
    paths = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc",
             sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    site = sysconfig.get_paths()["purelib"]
    paths.add(site)
    for pth in (os.listdir(site) if os.path.isdir(site) else []):
        if pth.endswith(".pth"):
            with open(os.path.join(site, pth), encoding="utf-8", errors="replace") as f:
                paths.update(line.strip() for line in f if line.strip().startswith("/"))
    paths = sorted(p for p in {os.path.realpath(p) for p in paths} | paths if os.path.exists(p))
    return [p for p in paths if not any(p.startswith(q.rstrip("/") + "/") for q in paths if q != p)]


def kernel_env(policy: Policy) -> dict[str, str]:
    """A clean environment: nothing of the grader's (tokens, paths) leaks into student code."""
    n = str(policy.threads)
    env = {"PATH": f"{os.path.dirname(policy.python)}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp",
           "TMPDIR": "/tmp", "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
           "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "AIROADMAP_PROFILE": "cpu", "AIROADMAP_THREADS": n, "OMP_NUM_THREADS": n,
           "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "NBGRADER_EXECUTION": "autograde",
           "JPY_PARENT_PID": "1"}  # 1: ipykernel neither polls a parent (pid namespace) nor prints its banner
    env.update(policy.env)
    return env


def bwrap_command(policy: Policy, cwd: str, connection_file: str, kernel: list[str]) -> list[str]:
    conn_dir = os.path.dirname(os.path.abspath(connection_file))
    cmd = ["bwrap", "--unshare-all", "--cap-drop", "ALL", "--uid", "0", "--gid", "0", "--die-with-parent",
           "--proc", "/proc", "--dev", "/dev", "--size", str(512 << 20), "--tmpfs", "/tmp", "--clearenv"]
    for path in policy.readonly:  # a merged-/usr system's /lib is a symlink to usr/lib: keep it one
        cmd += ["--symlink", os.readlink(path), path] if os.path.islink(path) else ["--ro-bind", path, path]
    for path in (cwd, conn_dir):
        cmd += ["--bind", path, path]
    for key, value in kernel_env(policy).items():
        cmd += ["--setenv", key, value]
    return cmd + ["--chdir", cwd, "--"] + kernel


def set_limits(policy: Policy) -> None:
    # RLIMIT_DATA, not RLIMIT_AS: a CUDA build of torch maps ~4.6 GB of shared libraries at import.
    memory = policy.memory_mb << 20
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    files = policy.max_file_mb << 20
    resource.setrlimit(resource.RLIMIT_FSIZE, (files, files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def write_kernelspec(jupyter_path: str, policy: Policy) -> str:
    """Install the ``airoadmap-grader`` kernelspec under ``jupyter_path`` (put it on JUPYTER_PATH)."""
    folder = os.path.join(jupyter_path, "kernels", KERNEL_NAME)
    os.makedirs(folder, exist_ok=True)
    spec = {"argv": [policy.python, os.path.abspath(__file__), "{connection_file}"],
            "display_name": "airoadmap grader (sandboxed)", "language": "python",
            "interrupt_mode": "signal", "env": {ENV_VAR: json.dumps(asdict(policy))}}
    with open(os.path.join(folder, "kernel.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=1)
    return folder


_probe_cache: dict[str, str | None] = {}


def problem() -> str | None:
    """None if bubblewrap works here; otherwise what is wrong and what to do about it."""
    if "bwrap" not in _probe_cache:
        if not shutil.which("bwrap"):
            _probe_cache["bwrap"] = f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}"
        else:
            probe = bwrap_command(Policy(readonly=readonly_paths()), "/tmp", "/tmp/x.json", ["true"])
            run = subprocess.run(probe, capture_output=True, text=True, timeout=30)
            _probe_cache["bwrap"] = None if run.returncode == 0 else (
                f"bubblewrap cannot create its namespaces here ({run.stderr.strip() or run.returncode}): "
                "it needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or root")
    return _probe_cache["bwrap"]


def main(argv: list[str]) -> None:
    """Kernel launcher: limits, then exec the sandbox (or the bare kernel)."""
    policy = Policy(**json.loads(os.environ[ENV_VAR]))
    connection_file = argv[1]
    kernel = [policy.python, "-m", "ipykernel_launcher", "-f", connection_file,
              "--HistoryManager.hist_file=:memory:"]
    set_limits(policy)
    # jupyter_client interrupts with SIGINT to the whole process group: bwrap must not die of it
    # (it would take the kernel along); the kernel sets its own handler while it executes a cell.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if policy.mode == "bwrap":
        cmd = bwrap_command(policy, os.getcwd(), connection_file, kernel)
        os.execvp(cmd[0], cmd)
    os.execve(kernel[0], kernel, kernel_env(policy))


if __name__ == "__main__":
    main(sys.argv)
