"""The grading kernel: an IPython kernel that puts the grader's tests back on their feet.

Started inside the sandbox by :mod:`.sandbox` as a script (``python kernel.py -f CONNECTION``),
so that only the standard library, ipykernel and IPython run before the first cell. It is an
ordinary IPython kernel except for two things the grader asks for with a first line in a cell:

``#airoadmap:snapshot``
    After this cell runs (the last of the notebook's locked setup cells, before any student code),
    record IPython's extension points (input and AST transformers, event callbacks, the compiler,
    the methods that run a cell), ``sys`` hooks, ``builtins``, the public functions of the
    modules tests rely on (torch, numpy, math, the course's checks) and the modules, functions and
    classes the setup cells put in the notebook's namespace (``assert_close``, ``F``, ...).
``#airoadmap:test``
    Before this cell runs (a test cell), put every one of them back as recorded. The reply names
    what had to be restored (``airoadmap_restored``), which the grader flags for the instructor.

So a hook, transformer or patched ``torch.allclose`` that a submission installed cannot rewrite or
silence a test. It is a guard, not a wall: the tests still run in the student's process, and code
written against this file itself can defeat it (docs/instructors.md says so).
"""
from __future__ import annotations

import builtins
import contextlib
import inspect
import sys

from ipykernel.ipkernel import IPythonKernel

SNAPSHOT = "#airoadmap:snapshot"
TEST = "#airoadmap:test"
GUARDED_MODULES = ("math", "numpy", "numpy.testing", "torch", "torch.nn.functional", "torch.testing",
                   "airoadmap.checks")
GUARDED_CLASSES = (("torch", "Tensor"), ("numpy", "ndarray"))
# methods through which a cell reaches Python, on the shell and the kernel
SHELL_METHODS = ("run_cell", "run_cell_async", "should_run_async", "transform_cell", "run_ast_nodes",
                 "run_code", "showtraceback", "_showtraceback", "showsyntaxerror", "ex_run_cell")
KERNEL_METHODS = ("do_execute", "execute_request", "send_response")
SYS_HOOKS = ("excepthook", "displayhook", "breakpointhook")
USER_NS_SKIP = ("In", "Out", "get_ipython", "exit", "quit", "open")


class Guard:
    """What the snapshot recorded, and how to put it back."""

    def __init__(self, kernel: IPythonKernel):
        shell = kernel.shell
        self.kernel, self.shell = kernel, shell
        manager = shell.input_transformer_manager
        self.lists = {  # (owner, attribute) -> the list's items
            (shell, "input_transformers_cleanup"): list(shell.input_transformers_cleanup),
            (shell, "input_transformers_post"): list(shell.input_transformers_post),
            (shell, "ast_transformers"): list(shell.ast_transformers),
            (manager, "cleanup_transforms"): list(manager.cleanup_transforms),
            (manager, "line_transforms"): list(manager.line_transforms),
            (manager, "token_transformers"): list(manager.token_transformers),
        }
        self.events = {name: list(callbacks) for name, callbacks in shell.events.callbacks.items()}
        self.compile, self.compile_flags = shell.compile, shell.compile.flags
        self.instance = {(id(obj), name): vars(obj).get(name, MISSING)
                         for obj, names in ((shell, SHELL_METHODS), (kernel, KERNEL_METHODS)) for name in names}
        self.methods = {}
        for obj, names in ((shell, SHELL_METHODS), (kernel, KERNEL_METHODS)):
            for cls in type(obj).__mro__:
                for name in names:
                    if name in vars(cls):
                        self.methods[(cls, name)] = vars(cls)[name]
        self.sys_hooks = {name: getattr(sys, name) for name in SYS_HOOKS}
        self.builtins = dict(vars(builtins))
        self.modules = {}
        for name in GUARDED_MODULES:
            module = sys.modules.get(name)
            if module is not None:
                self.modules[name] = (module, dict(vars(module)))
        # what the setup cells imported into the notebook's namespace (modules, functions, classes)
        self.user = {k: v for k, v in shell.user_ns.items()
                     if not k.startswith("_") and k not in USER_NS_SKIP and (inspect.ismodule(v) or callable(v))}
        self.classes = {}
        for module_name, cls_name in GUARDED_CLASSES:
            cls = getattr(sys.modules.get(module_name), cls_name, None)
            if isinstance(cls, type):
                self.classes[f"{module_name}.{cls_name}"] = (cls, dict(vars(cls)))

    def restore(self) -> list[str]:
        """Put everything back; return what had changed."""
        changed = []
        for (owner, attr), items in self.lists.items():
            current = getattr(owner, attr, None)
            if current != items:
                changed.append(attr)
                if isinstance(current, list):
                    current[:] = items      # some of these are properties over the manager's own lists
                else:
                    setattr(owner, attr, list(items))
        events = self.shell.events.callbacks
        for name in set(events) | set(self.events):
            if events.get(name, []) != self.events.get(name, []):
                now, before = events.get(name, []), self.events.get(name, [])
                added = [cb for cb in now if cb not in before]
                if any(cb not in now for cb in before) or not all(_from_library(cb) for cb in added):
                    changed.append(f"events.{name}")
                events[name] = list(self.events.get(name, []))
        if self.shell.compile is not self.compile or self.compile.flags != self.compile_flags:
            changed.append("compile")
            self.shell.compile, self.compile.flags = self.compile, self.compile_flags
        for obj, names in ((self.shell, SHELL_METHODS), (self.kernel, KERNEL_METHODS)):
            for name in names:
                saved = self.instance[(id(obj), name)]
                if vars(obj).get(name, MISSING) is not saved:
                    changed.append(name)
                    if saved is MISSING:
                        delattr(obj, name)
                    else:
                        setattr(obj, name, saved)
        for (cls, name), value in self.methods.items():
            if vars(cls).get(name) is not value:
                changed.append(f"{cls.__name__}.{name}")
                setattr(cls, name, value)
        if sys.gettrace() is not None or sys.getprofile() is not None:
            changed.append("sys.settrace/setprofile")
            sys.settrace(None)
            sys.setprofile(None)
        for name, value in self.sys_hooks.items():
            if getattr(sys, name) is not value:
                changed.append(f"sys.{name}")
                setattr(sys, name, value)
        changed += _restore_dict("builtins", builtins, {k: v for k, v in self.builtins.items()
                                                        if not k.startswith("_")})
        for name, (module, saved) in self.modules.items():
            changed += _restore_dict(name, module, saved, only_callables=True)
        namespace = self.shell.user_ns
        for key, value in self.user.items():
            new = namespace.get(key, MISSING)
            if new is not value and _library_wrapper(new, value):
                self.user[key] = new
            elif new is not value:
                changed.append(key)
                namespace[key] = value
        for name, (cls, saved) in self.classes.items():
            changed += _restore_dict(name, cls, saved, only_callables=True)
        return changed


MISSING = object()
LIBRARIES = ("matplotlib", "matplotlib_inline", "IPython", "ipykernel", "ipywidgets", "tqdm")


def _from_library(callback) -> bool:
    """Whether an event callback was defined by a library that registers hooks of its own (matplotlib)."""
    module = getattr(callback, "__module__", None) or getattr(getattr(callback, "__func__", None), "__module__", "")
    return isinstance(module, str) and module.split(".")[0] in LIBRARIES


def _site_dirs() -> tuple[str, ...]:
    import sysconfig
    paths = sysconfig.get_paths()
    return tuple({paths["purelib"], paths["platlib"], paths["stdlib"]})


def _library_wrapper(new, old) -> bool:
    """Whether ``new`` is an installed library's wrapper around ``old`` (its ``__wrapped__`` chain
    reaches ``old`` and its code lives in the read-only installed packages, not in a notebook)."""
    seen, depth = new, 0
    while seen is not None and seen is not old and depth < 5:
        seen, depth = getattr(seen, "__wrapped__", None), depth + 1
    if seen is not old:
        return False
    filename = getattr(getattr(new, "__code__", None), "co_filename", "")
    return bool(filename) and filename.startswith(_site_dirs())


def _restore_dict(label: str, owner, saved: dict, only_callables: bool = False) -> list[str]:
    """Put back the values of ``saved`` that changed (names added since are left alone)."""
    changed = []
    current = vars(owner)
    for key, value in saved.items():
        private = key.startswith("_") and not (key.startswith("__") and key.endswith("__"))
        if private or (only_callables and not callable(value)):
            continue
        new = current.get(key, saved)
        if new is not value and _library_wrapper(new, value):
            saved[key] = new  # e.g. torch._dynamo wraps torch.manual_seed when it is first imported
            continue
        if new is not value:
            changed.append(f"{label}.{key}={current.get(key)!r} was {value!r}")
            with contextlib.suppress(AttributeError, TypeError):
                setattr(owner, key, value)
    return changed


class GradingKernel(IPythonKernel):
    implementation = "airoadmap-grader"
    guard: Guard | None = None

    async def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False,
                         **kwargs):
        first, _, rest = code.partition("\n")
        marker = first.strip()
        restored = None
        if marker == TEST:
            code = rest
            try:
                restored = self.guard.restore() if self.guard is not None else []
            except Exception as e:  # noqa: BLE001 - a guard that fails must not hang the cell
                restored = [f"(the guard failed: {type(e).__name__})"]
        elif marker == SNAPSHOT:
            code = rest
        reply = await super().do_execute(code, silent, store_history, user_expressions, allow_stdin, **kwargs)
        if marker == SNAPSHOT:
            try:
                GradingKernel.guard = Guard(self)
            except Exception:  # noqa: BLE001 - no guard rather than no reply
                GradingKernel.guard = None
        if restored:
            reply["airoadmap_restored"] = sorted(set(restored))
        return reply


def main() -> None:
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=GradingKernel)


if __name__ == "__main__":
    import os
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # this folder's modules must not be importable by the names student code uses
    main()
