"""The filesystem a sandbox worker sees, and the import path it gets: derived from where things are
installed, never from the caller's current directory or `sys.path[0]`.

    view = fsview.view()      # View(binds=[...], links=[...], python_path=[...]), computed once
    view.python_path          # the worker's PYTHONPATH

Bound read-only, at the same path: /usr (and /bin, /lib*, /sbin: symlinks into usr on a merged-/usr
system, bound directories otherwise), from /etc only `ld.so.cache` and `alternatives` (symlinks to
tools in /usr), the Python prefix(es), the site directories of the distributions a worker imports
(lowres-rl, its requirements, every language plugin's distribution), the directory of each top-level
package a worker imports (lowres_rl and each plugin's; an editable install binds that directory,
never the repository around it) with the targets of the symlinks directly inside it (lowres_rl's
interpreters and prompts), and the prefix of each tool a language requires that lies elsewhere.
Everything else — the rest of /etc, home directories, /work, datasets, caches, /run and /var (host
sockets), /tmp — is absent. lowres_rl.sandbox.isolation adds /proc, /dev, private tmpfs mounts and the
worker's own directory.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import site
import sys
from dataclasses import dataclass
from importlib.metadata import Distribution, EntryPoint, distributions, entry_points

SYSTEM = ("/usr", "/etc/ld.so.cache", "/etc/alternatives")
TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # symlinks into /usr, or dirs
PLUGINS = "lowres_rl.languages"
DATA_PACKAGES = ("lowres_rl.interpreters", "lowres_rl.prompts")


@dataclass(frozen=True)
class View:
    binds: tuple[str, ...]              # host paths bound read-only at the same path, outermost first
    links: tuple[tuple[str, str], ...]  # (target, link): /bin -> usr/bin on a merged-/usr system,
                                        # a symlinked path to the bound directory it leads to
    python_path: tuple[str, ...]        # the worker's PYTHONPATH

    def dirs(self) -> list[str]:
        """Every directory above a bind that is not itself bound: created (mode 0755) before the
        binds, since bwrap would otherwise copy a host parent's mode (/root is 0700)."""
        above = {os.path.dirname(p) for p in [*self.binds, *(link for _, link in self.links)]}
        while True:
            more = {os.path.dirname(p) for p in above} - above
            if not more:
                break
            above |= more
        return sorted(d for d in above - {"/"} if not any(_under(d, b) for b in self.binds))


def view() -> View:
    """The view for this process: it depends on what is installed and on which Language classes
    this process has imported (a pool may be given a language that has no entry point)."""
    return _view(_language_modules())


def _language_modules() -> frozenset[str]:
    """The top-level modules of lowres_rl, of every registered plugin and of every Language
    subclass imported here (cheap: the pool asks at each worker start)."""
    from lowres_rl.languages.base import Language

    modules = {"lowres_rl"} | {ep.value.split(":")[0].split(".")[0] for ep in _plugins()}
    todo = list(Language.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        modules.add(cls.__module__.split(".")[0])
    return frozenset(modules - {"__main__"})  # a class defined in a script cannot be rebuilt anyway


@functools.cache
def _plugins() -> tuple[EntryPoint, ...]:
    return tuple(entry_points(group=PLUGINS))


@functools.cache
def _view(modules: frozenset[str]) -> View:
    packages = _package_dirs(modules)
    paths = [*SYSTEM, *_python_prefixes(), *_site_dirs(), *packages, *_tool_prefixes()]
    links, binds = [], []
    for path in TOP_LEVEL:
        target = os.readlink(path) if os.path.islink(path) else None
        if target is not None and not os.path.isabs(target) and os.path.exists(path):
            links.append((target, path))
        elif os.path.isdir(path):
            binds.append(path)
    found = {os.path.abspath(p): os.path.realpath(p) for p in paths if p and os.path.exists(p)}
    binds = sorted(set(binds) | set(found.values()))
    binds = [b for b in binds if not any(_under(b, o) and b != o for o in binds)]
    for path, real in sorted(found.items()):  # a path through a symlink (a venv's): a link to its target
        if path != real and not any(_under(path, b) for b in binds) and not any(_under(path, l) for _, l in links):
            links.append((real, path))
    python_path = list(dict.fromkeys(os.path.dirname(p) for p in packages if os.path.isdir(p)))
    python_path += [d for d in _site_dirs() if d not in site.getsitepackages()]
    return View(tuple(binds), tuple(links), tuple(dict.fromkeys(python_path)))


def _python_prefixes() -> list[str]:
    executable = os.path.realpath(sys.executable)
    return [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
            os.path.dirname(os.path.dirname(executable)), os.path.dirname(sys.executable)]


def _distributions() -> list[Distribution]:
    """lowres-rl, every language plugin's distribution, and what they require (transitively;
    optional extras left out)."""
    installed: dict[str, tuple[Distribution, list[str]]] = {}
    for dist in distributions(path=_install_path()):  # one scan: looking each name up rescans it
        name, requires = _metadata(dist)
        installed.setdefault(name, (dist, requires))
    todo = ["lowres-rl", *(_metadata(ep.dist)[0] for ep in _plugins() if ep.dist)]
    found: dict[str, Distribution] = {}
    while todo:
        name = todo.pop()
        if name in found or name not in installed:
            continue
        found[name], requires = installed[name]
        todo += requires
    return list(found.values())


def _install_path() -> list[str]:
    """sys.path without the caller's own directory (`''`, the cwd, the script's directory): an
    editable install leaves `*.egg-info` in the checkout, which would otherwise be read as the
    installed distribution and put the whole checkout in the view."""
    caller = {"", os.getcwd(), os.path.abspath(sys.path[0]) if sys.path else ""}
    return [p for p in sys.path if p not in caller and os.path.abspath(p) not in caller]


def _metadata(dist: Distribution) -> tuple[str, list[str]]:
    """The distribution's normalised name and required names (extras left out), read with a
    regular expression: `dist.metadata` parses the whole file as e-mail, 100x slower."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    name = re.search(r"^Name:\s*(\S+)", text, re.M)
    requires = [m.group(1) for m in re.finditer(r"^Requires-Dist:\s*([A-Za-z0-9._-]+)([^\n]*)", text, re.M)
                if "extra ==" not in m.group(2)]
    return _normal(name.group(1) if name else ""), [_normal(r) for r in requires]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _site_dirs() -> tuple[str, ...]:
    """The site directories the worker's distributions are installed in (the interpreter's own
    site-packages first)."""
    dirs = [os.path.realpath(d) for d in site.getsitepackages()]
    for dist in _distributions():
        dirs.append(os.path.realpath(str(dist.locate_file(""))))
    return tuple(dict.fromkeys(d for d in dirs if os.path.isdir(d)))


def _package_dirs(modules: frozenset[str]) -> list[str]:
    """The directories of these top-level packages (or their module files), with the targets of
    the symlinks directly inside them (package data kept elsewhere in a checkout)."""
    found = []
    for module in sorted(modules):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            continue  # a broken plugin: the pool reports it when asked for that language
        if spec is None:
            continue
        if spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                found.append(os.path.abspath(location))
                found += _link_targets(location)
        elif spec.origin and os.path.isabs(spec.origin):
            found.append(os.path.abspath(spec.origin))
    return found + _data_dirs()


def _data_dirs() -> list[str]:
    """lowres_rl's package data, which an editable install maps from elsewhere in the checkout
    (interpreters/, prompts/), without the checkout itself."""
    from importlib.resources import files

    return [os.path.abspath(str(files(package))) for package in DATA_PACKAGES]


def _link_targets(directory: str) -> list[str]:
    try:
        return [os.path.realpath(e.path) for e in os.scandir(directory) if e.is_symlink()]
    except OSError:
        return []


def _tool_prefixes() -> list[str]:
    """For each program a language requires on PATH that lives outside /usr: its prefix (the
    directory above its bin/), plus SWI_HOME_DIR and SBCL_HOME where set."""
    prefixes = [os.environ.get("SWI_HOME_DIR", ""), os.environ.get("SBCL_HOME", "")]
    for ep in _plugins():
        try:
            requires = getattr(ep.load(), "requires", {})
        except Exception:  # noqa: BLE001 - a broken plugin: reported when that language is asked for
            continue
        for program in requires:
            where = shutil.which(program)
            if where and not _under(os.path.realpath(where), "/usr"):
                prefixes.append(os.path.dirname(os.path.dirname(os.path.realpath(where))))
    return prefixes


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")
