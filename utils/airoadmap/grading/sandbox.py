"""The grading kernel's sandbox and resource limits.

A student's notebook runs in a Jupyter kernel whose kernelspec (written by :func:`write_kernelspec`
into a folder of the grader's own) starts *this file* as a script, not as a module, so that only
the standard library runs before the sandbox is up::

    python .../grading/sandbox.py {connection_file}            on the host: limits, then bwrap
    python .../grading/sandbox.py --inside {connection_file}   in the sandbox: drop to the grading
                                                                user, cap processes, exec the kernel

The :class:`Policy` comes in the ``AIROADMAP_SANDBOX`` variable. With ``mode="bwrap"``, bubblewrap
gives the kernel new pid, network, ipc and uts namespaces and a file system made of read-only
binds (system folders, the interpreter and its packages, the course package, the prepared assets
of ``airoadmap assets``), a private ``/tmp``, and exactly two writable folders: the kernel's
working folder (an empty scratch folder of the grader's) and the folder of its connection file
(the kernel talks to the grader over ``ipc`` sockets there, so it needs no network at all).
Everything else is invisible: the solutions, the gradebook, the cohort's sources, other students'
submissions, the home folder.

Who the kernel runs as: an instructor who is not root gets a user namespace (bwrap's default), in
which the process cap (``RLIMIT_NPROC``) counts this sandbox alone. Linux does not apply that cap
to root, so when the grader runs as root the kernel runs as an unprivileged user id of its own
(:func:`grading_uid`: one per worker process) that owns nothing on the machine but the scratch
folder. With ``mode="none"`` the kernel runs with the same limits and environment but no isolation.

Limits set here: heap (``RLIMIT_DATA``), file size, no core dumps, processes and threads
(``RLIMIT_NPROC``). Time limits are the grader's (:mod:`.engine`).
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
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; `make` does it where apt works)"
KERNEL_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel.py")
TMP_BYTES = 512 << 20  # the sandbox's private /tmp


@dataclass
class Policy:
    mode: str = "bwrap"          # "bwrap" or "none"
    memory_mb: int = 12288       # RLIMIT_DATA: heap and anonymous maps (grading sets it from Limits)
    threads: int = 1             # torch/OpenMP threads for this kernel
    processes: int = 256         # RLIMIT_NPROC: processes and threads of the kernel
    max_file_mb: int = 1024      # largest file the kernel may write
    uid: int | None = None       # run the kernel as this user id (set when the grader is root)
    python: str = sys.executable
    readonly: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def grading_uid() -> int | None:
    """The user id a root grader runs kernels as: unprivileged, unused, one per worker process."""
    return 200_000 + os.getpid() % 60_000 if os.geteuid() == 0 else None


def readonly_paths(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """What the kernel may read: system folders, the interpreter, site-packages, the source folders
    of editable installs (the course package), and ``extra`` (the prepared assets); nothing else."""
    paths = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc",
             sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             *extra}
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
           "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "RAYON_NUM_THREADS": n,
           "AIROADMAP_PROFILE": "cpu", "AIROADMAP_THREADS": n, "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n,
           "OPENBLAS_NUM_THREADS": n, "NBGRADER_EXECUTION": "autograde", "AIROADMAP_CACHE_READONLY": "1",
           "MALLOC_ARENA_MAX": "2",  # glibc reserves 64 MB of address space per thread arena: RLIMIT_DATA counts it
           "JPY_PARENT_PID": "1"}  # 1: ipykernel neither polls a parent (pid namespace) nor prints its banner
    env.update(policy.env)
    return env


def _parents(paths: list[str]) -> list[str]:
    """Folders bwrap must create above the binds (it would make them 0700: unreadable once we drop root)."""
    out = []
    for path in paths:
        parent = os.path.dirname(path.rstrip("/"))
        chain = []
        while parent not in ("", "/"):
            chain.append(parent)
            parent = os.path.dirname(parent)
        for folder in reversed(chain):
            inside_a_bind = any(folder == p or folder.startswith(p.rstrip("/") + "/") for p in paths)
            if not inside_a_bind and folder not in out:
                out.append(folder)
    return out


def bwrap_command(policy: Policy, cwd: str, connection_file: str, inner: list[str]) -> list[str]:
    conn_dir = os.path.dirname(os.path.abspath(connection_file))
    as_root = os.geteuid() == 0
    # root: no user namespace (the kernel drops to policy.uid inside); otherwise a user namespace
    unshare = (["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
               if as_root else ["--unshare-all", "--cap-drop", "ALL", "--uid", "0", "--gid", "0"])
    cmd = ["bwrap", *unshare, "--die-with-parent", "--proc", "/proc", "--dev", "/dev",
           "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--clearenv"]
    binds = [p for p in policy.readonly if not os.path.islink(p)] + [cwd, conn_dir]
    for folder in _parents(binds):
        cmd += ["--perms", "0755", "--dir", folder]
    for path in policy.readonly:  # a merged-/usr system's /lib is a symlink to usr/lib: keep it one
        cmd += ["--symlink", os.readlink(path), path] if os.path.islink(path) else ["--ro-bind", path, path]
    for path in (cwd, conn_dir):
        cmd += ["--bind", path, path]
    for key, value in kernel_env(policy).items():
        cmd += ["--setenv", key, value]
    return cmd + ["--chdir", cwd, "--"] + inner


def set_limits(policy: Policy) -> None:
    # RLIMIT_DATA, not RLIMIT_AS: a CUDA build of torch maps ~4.6 GB of shared libraries at import.
    memory = policy.memory_mb << 20
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    files = policy.max_file_mb << 20
    resource.setrlimit(resource.RLIMIT_FSIZE, (files, files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def write_kernelspec(folder: str, policy: Policy) -> str:
    """Write the ``airoadmap-grader`` kernelspec into ``folder/kernels/`` (a KernelSpecManager's kernel_dirs)."""
    spec_dir = os.path.join(folder, "kernels", KERNEL_NAME)
    os.makedirs(spec_dir, exist_ok=True)
    spec = {"argv": [policy.python, os.path.abspath(__file__), "{connection_file}"],
            "display_name": "airoadmap grader (sandboxed)", "language": "python",
            "interrupt_mode": "signal", "env": {ENV_VAR: json.dumps(asdict(policy))}}
    with open(os.path.join(spec_dir, "kernel.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=1)
    return spec_dir


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


def _drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit(f"airoadmap sandbox: could not drop to uid {uid}")


def _no_new_privileges() -> None:
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except (OSError, AttributeError):
        pass


def _start_kernel(policy: Policy, connection_file: str, env: dict[str, str]) -> None:
    """In the sandbox (or bare): user, process cap, then exec the grading kernel."""
    if policy.uid is not None and os.getuid() == 0:
        _drop_privileges(policy.uid)
    _no_new_privileges()
    resource.setrlimit(resource.RLIMIT_NPROC, (policy.processes, policy.processes))
    kernel = [policy.python, KERNEL_SCRIPT, "-f", connection_file, "--HistoryManager.hist_file=:memory:"]
    os.execve(kernel[0], kernel, env)


def main(argv: list[str]) -> None:
    policy = Policy(**json.loads(os.environ[ENV_VAR]))
    if argv[1] == "--inside":  # in the sandbox: the environment is bwrap's clean one
        _start_kernel(policy, argv[2], dict(os.environ))
    connection_file = argv[1]
    set_limits(policy)
    # jupyter_client interrupts with SIGINT to the whole process group: bwrap must not die of it
    # (it would take the kernel along); the kernel sets its own handler while it executes a cell.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if policy.uid is not None and os.getuid() == 0:  # the kernel reads this file and makes its sockets there
        for path in (os.path.dirname(os.path.abspath(connection_file)), connection_file):
            os.chown(path, policy.uid, policy.uid)
    if policy.mode == "bwrap":
        inner = [policy.python, os.path.abspath(__file__), "--inside", connection_file]
        cmd = bwrap_command(policy, os.getcwd(), connection_file, inner)
        env = {ENV_VAR: os.environ[ENV_VAR]}
        cmd[cmd.index("--chdir"):cmd.index("--chdir")] = ["--setenv", ENV_VAR, env[ENV_VAR]]
        os.execvp(cmd[0], cmd)
    env = kernel_env(policy)
    env[ENV_VAR] = os.environ[ENV_VAR]
    _start_kernel(policy, connection_file, env)


if __name__ == "__main__":
    main(sys.argv)
