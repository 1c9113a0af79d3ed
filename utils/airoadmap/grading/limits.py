"""The grading limits: the one place their defaults live (cohort.toml, the CLI and the docs read them here)."""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    """What one submission may use while it is graded.

    cell_timeout (`int`, defaults to `600`):
        Seconds per cell. The kernel is interrupted after them; a cell that ignores the interrupt
        stops the notebook (the kernel is killed and later cells are not run).
    wall_clock (`int`, defaults to `1800`):
        Seconds for the whole notebook; after them the remaining cells are not run.
    memory_mb (`int`, defaults to `12288`):
        The kernel's data segment (``RLIMIT_DATA``: heap and private mappings, address space rather than
        resident memory). GRPO (12) on the cpu profile needs more than 8 GB of it.
    processes (`int`, defaults to `256`):
        Processes and threads the kernel may have at once (``RLIMIT_NPROC``; torch, tokenizers and
        ipykernel use ~30 threads).
    cell_output_kb (`int`, defaults to `256`):
        Output kept per cell (text, images); the rest is dropped and replaced by a note.
    notebook_output_mb (`int`, defaults to `8`):
        Output kept for the whole notebook.
    notebook_mb (`int`, defaults to `50`):
        The largest submitted notebook file that is read at all.
    """

    cell_timeout: int = 600
    wall_clock: int = 1800
    memory_mb: int = 12288
    processes: int = 256
    cell_output_kb: int = 256
    notebook_output_mb: int = 8
    notebook_mb: int = 50

    @classmethod
    def merged(cls, *layers: dict | None) -> Limits:
        """Defaults, overridden by each layer in turn (cohort.toml's [limits], then the CLI); None means unset."""
        names = {f.name for f in fields(cls)}
        values = {}
        for layer in layers:
            for key, value in (layer or {}).items():
                if value is None:
                    continue
                if key not in names:
                    raise ValueError(f"unknown limit {key!r} (known: {', '.join(sorted(names))})")
                if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                    raise ValueError(f"limit {key} = {value!r}: expected a positive whole number")
                values[key] = value
        return cls(**values)


DEFAULTS = Limits()
