"""The conformance kit's sample programs: a handful of tiny programs per language.

    from lowres_rl.testing import LanguageSamples, find_samples
    find_samples("lisp")      # BUILTIN_SAMPLES["lisp"]; a plugin's from entry point group lowres_rl.samples

Built-in languages' samples are BUILTIN_SAMPLES; a plugin registers its own under the entry-point
group `lowres_rl.samples` (see docs/adding-a-language.md), in a module of its own, so that
sandbox workers, which import the language, never import the kit.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

SAMPLES_GROUP = "lowres_rl.samples"


@dataclass(frozen=True)
class LanguageSamples:
    """Tiny programs in one language, for the kit. Each is code run with the default query, except
    `correct`, which also names its query (None: the default) and the answer it must produce.

    `define` must run to `ok` on its own; `use_definition` must need what `define` defines (and
    `define + "\\n" + use_definition` must run to `ok`, which shows it fails for that reason only).
    `no_answer` is None for languages where every value is an answer (Lisp, Hy)."""

    correct: tuple[str, str | None, str]
    syntax_error: str
    runtime_error: str
    infinite_loop: str
    exit_call: str
    define: str
    use_definition: str
    no_answer: str | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.correct, tuple) and len(self.correct) == 3
                and isinstance(self.correct[0], str) and isinstance(self.correct[2], str)
                and (self.correct[1] is None or isinstance(self.correct[1], str))):
            raise TypeError("LanguageSamples.correct must be (code, query or None, expected answer as text)")
        for name in ("syntax_error", "runtime_error", "infinite_loop", "exit_call", "define", "use_definition"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise TypeError(f"LanguageSamples.{name} must be non-empty code")


BUILTIN_SAMPLES: dict[str, LanguageSamples] = {
    "prolog": LanguageSamples(
        correct=("price(12).\ncount(3).\ntotal(T) :- price(P), count(C), T is P * C + 6.", "total(T)", "42"),
        syntax_error="solve(X) :- X is 6 * .",
        runtime_error="solve(X) :- X is foo + 1.",
        no_answer="solve(X) :- fail.",
        infinite_loop="spin(X) :- spin(X).\nsolve(X) :- spin(X).",
        exit_call="solve(X) :- X = 1, halt.",
        define="helper(42).\nsolve(X) :- helper(X).",
        use_definition="solve(X) :- helper(X).",
    ),
    "lisp": LanguageSamples(
        correct=("(defun total-cost ()\n  (let* ((price 12) (count 3))\n    (+ (* price count) 6)))",
                 "(total-cost)", "42"),
        syntax_error="(defun solve () (* 6 7)",
        runtime_error='(defun solve () (+ 1 "a"))',
        infinite_loop="(defun solve () (loop))",
        exit_call="(defun solve () (sb-ext:exit))",
        define="(defun helper () 42)\n(defun solve () (helper))",
        use_definition="(defun solve () (helper))",
    ),
    "hy": LanguageSamples(
        correct=("(defn total-cost []\n  (setv price 12 count 3)\n  (+ (* price count) 6))", "(total-cost)", "42"),
        syntax_error="(defn solve [] (* 6 7)",
        runtime_error='(defn solve [] (+ 1 "a"))',
        infinite_loop="(defn solve [] (while True (setv x 1)))",
        exit_call="(import sys)\n(defn solve [] (sys.exit 1))",
        define="(defn helper [] 42)\n(defn solve [] (helper))",
        use_definition="(defn solve [] (helper))",
    ),
}


class SamplesError(LookupError):
    """No usable conformance samples for a language; the message says why and how to add them."""

    def __str__(self) -> str:
        return str(self.args[0])


def find_samples(name: str) -> LanguageSamples:
    """The samples for language `name`: BUILTIN_SAMPLES, else the `lowres_rl.samples` entry point
    of that name (a `module:ATTRIBUTE` naming a LanguageSamples, or a function returning one)."""
    if name in BUILTIN_SAMPLES:
        return BUILTIN_SAMPLES[name]
    points = [ep for ep in entry_points(group=SAMPLES_GROUP) if ep.name == name]
    if not points:
        raise SamplesError(
            f"no conformance samples for language {name!r}: register a LanguageSamples in the plugin's "
            f"pyproject.toml, [project.entry-points.\"{SAMPLES_GROUP}\"] {name} = \"your_module:SAMPLES\" "
            f"(see docs/adding-a-language.md), or call lowres_rl.testing.check_language with samples=")
    try:
        samples = points[0].load()
        if callable(samples) and not isinstance(samples, LanguageSamples):
            samples = samples()
    except Exception as exc:
        raise SamplesError(f"failed to load conformance samples {name!r} ({points[0].value}): "
                           f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(samples, LanguageSamples):
        raise SamplesError(f"conformance samples {name!r} ({points[0].value}) is a "
                           f"{type(samples).__name__}, not a lowres_rl.testing.LanguageSamples")
    return samples
