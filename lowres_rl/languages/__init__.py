"""Language registry: every language, built-in or third-party, is found through the entry-point
group `lowres_rl.languages` (the built-ins are registered there too, so the plugin path is the only
path).

    from lowres_rl.languages import get_language, available_languages
    available_languages()          # ['hy', 'lisp', 'prolog', ...]
    get_language("prolog")         # a Language: run programs with lowres_rl.sandbox.run

A plugin that fails to import is reported by name with its cause when asked for, and never stops
the other languages from loading.
"""
from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points

from lowres_rl.languages.base import BaseInterpreter, Comments, Language
from lowres_rl.languages.contract import Execution, Interpreter, Limits, Program, Status, canonical_number
from lowres_rl.languages.numerals import Literal, NumberSyntax
from lowres_rl.languages.recipe import Recipe

GROUP = "lowres_rl.languages"

__all__ = [
    "GROUP", "BaseInterpreter", "Comments", "Execution", "Interpreter", "Language", "Limits", "Literal", "NumberSyntax",
    "PluginError", "Program", "Recipe", "Status", "UnknownLanguageError",
    "available_languages", "canonical_number", "get_language", "language_spec", "load_language",
]


class PluginError(RuntimeError):
    """A language plugin could not be loaded; the message names the plugin and the cause."""


class UnknownLanguageError(KeyError):
    """No language of that name is registered; the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def available_languages() -> list[str]:
    """Names of every registered language (whether or not its plugin imports cleanly)."""
    return sorted(_entry_points())


def load_language(spec: str) -> Language:
    """Instantiate a language from `module:Class` (how sandbox workers rebuild their language)."""
    module_name, _, qualname = spec.partition(":")
    try:
        obj: object = __import__(module_name, fromlist=["_"])
        for part in qualname.split("."):
            obj = getattr(obj, part)
        language = obj()  # type: ignore[operator]
    except Exception as exc:
        raise PluginError(f"failed to load language plugin {spec!r}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(language, Language):
        raise PluginError(f"language plugin {spec!r} is not a lowres_rl Language subclass")
    return language


def language_spec(language: Language) -> str:
    """The `module:Class` spec that rebuilds `language` in another process."""
    cls = type(language)
    return f"{cls.__module__}:{cls.__qualname__}"


@functools.cache
def get_language(name: str) -> Language:
    """The (shared, cached) instance of language `name`.

    Raises UnknownLanguageError (a KeyError) listing the known languages for an unknown name, and PluginError naming the
    plugin and the underlying error when its entry point fails to load.
    """
    points = _entry_points()
    if name not in points:
        known = ", ".join(available_languages()) or "none (is lowres-rl installed?)"
        raise UnknownLanguageError(f"unknown language {name!r}; known languages: {known}")
    try:
        return load_language(points[name].value)
    except PluginError as exc:
        raise PluginError(f"language plugin {name!r}: {exc}") from exc.__cause__
