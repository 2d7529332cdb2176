"""Common Lisp: a persistent SBCL process per sandbox worker.

The answer is the value of the query expression (`(total)`); without a query, `(solve)`. The
in-worker side (`LispInterpreter`) keeps one SBCL running interpreters/lisp/harness.lisp and sends it
one program at a time: each loads into a fresh package (named after the request's random nonce) with
*read-eval* off, is evaluated by SBCL's
interpreter (compiling would cost more than running) under a step budget (`Limits.steps`: loop
iterations and calls) and sb-ext:with-timeout, and the package is deleted afterwards. SBCL runs with a bounded heap
(--dynamic-space-size) and control stack, no init files and no debugger; if a program wedges or
kills it, or changes packages or functions the next program depends on (the harness checks after
each), it is killed and restarted for the next program (a cost paid only then; figures in
benchmarks/README.md). The process handling is lowres_rl.languages.pipe's.

Number literals (for the hard-coding check): `;` and `#| |#` comments (nesting not followed: the
inner end closes it); strings, `|symbols|`, `#\\c` characters; tokens read as CL numbers: `12.`
integers, `144/2` ratios, `1.5d0` floats, `#x48`, `#b…`, `#o…`, `#36r20`. `*read-base*` is assumed 10.

Persistent SBCL against a process per program (`sbcl --script`): see benchmarks/lisp_process_model.py.
"""
from __future__ import annotations

import re

from lowres_rl.languages.base import Comments, Language
from lowres_rl.languages.contract import MAX_ERROR_TYPE, Execution, Interpreter, Limits, Status
from lowres_rl.languages.numerals import Literal, NumberSyntax, decimal, integer, ratio
from lowres_rl.languages.pipe import PipeInterpreter, find_program
from lowres_rl.languages.recipe import Recipe, kebab, prefix, variables
from lowres_rl.languages.resources import resource

WARNING_SEPARATOR = "\x1f"  # the harness joins warnings (which may span lines) with this


_LITERALS = re.compile(r"""
    (?>(?: ;[^\n]* | \#\|[\s\S]*?(?:\|\#|\Z) | "(?:[^"\\]|\\[\s\S])*"? | \|(?:[^|\\]|\\[\s\S])*\|?
         | \#\\[\s\S][^\s()'"`;,|]* | \#(?!(?:[xXbBoO]|\d{1,2}[rR])[-+]?[0-9a-zA-Z])
         | [^\s()'"`;,|\#0-9+\-.][^\s()'"`;,|]* | [\s()'"`,] )*)
    (?: (?P<based> \#(?:[xX]|[bB]|[oO]|\d{1,2}[rR]) )(?P<sign>[-+]?)(?P<digits>[0-9a-zA-Z]+(?:/[0-9a-zA-Z]+)?)
      | (?P<token> [0-9+\-.][^\s()'"`;,|]* ) )?
""", re.VERBOSE)
_NUMBER = re.compile(r"([-+]?)(\d+/\d+|\d+\.?|\d*\.\d+(?:[esfdlESFDL][-+]?\d+)?"
                     r"|\d+(?:\.\d*)?[esfdlESFDL][-+]?\d+)")


def _literal(m: re.Match) -> Literal | None:
    if m.group("based"):
        radix = m.group("based")[1:].lower()
        base = {"x": 16, "b": 2, "o": 8}.get(radix) or int(radix[:-1])
        digits = m.group("digits")
        value = ratio(*digits.split("/"), base=base) if "/" in digits else integer(digits, base)
        start = m.start("digits") if m.group("sign") else m.start("based")
        return None if value is None or not 2 <= base <= 36 else Literal(start, m.end(), value)
    number = m.group("token") and _NUMBER.fullmatch(m.group("token"))
    if not number:
        return None
    body = number.group(2)
    is_float = not ("/" in body or body.rstrip(".").isdigit())
    value = ratio(*body.split("/")) if "/" in body else decimal(body)
    start = m.start("token") + len(number.group(1))
    return None if value is None else Literal(start, m.end(), value, is_float)


class Lisp(Language):
    name = "lisp"
    fence = ("lisp", "common-lisp", "commonlisp", "cl", "sbcl")
    default_query = "(solve)"
    extension = ".lisp"
    requires = {"sbcl": "install SBCL (Debian/Ubuntu: apt-get install sbcl)"}
    comments = Comments(line=(";",), block=(("#|", "|#"),))
    number_syntax = NumberSyntax(_LITERALS, _literal, ratio="{}/{}")

    def interpreter(self, limits: Limits) -> Interpreter:
        return LispInterpreter(limits)

    def synthetic(self, recipe: Recipe) -> str:
        return program(recipe)


def program(recipe: Recipe) -> str:
    """A reference program for a synthetic problem: (solve) with let*, plus defparameters or helpers."""
    facts, given = recipe.style == "facts", dict(recipe.given)

    def leaf(n: str) -> str:
        return f"*{kebab(n)}*" if facts and n in given else kebab(n)

    head = [f"(defparameter *{kebab(n)}* {v})" for n, v in recipe.given] if facts else []
    binds = [] if facts else [f"({kebab(n)} {v})" for n, v in recipe.given]
    for n, e in recipe.steps:
        if recipe.style == "helper":
            params = " ".join(map(kebab, variables(e)))
            head.append(f"(defun compute-{kebab(n)} ({params})\n  {prefix(e, kebab, 'floor')})")
            binds.append(f"({kebab(n)} (compute-{kebab(n)} {params}))")
        else:
            binds.append(f"({kebab(n)} {prefix(e, leaf, 'floor')})")
    body = "\n         ".join(binds)
    result = kebab(recipe.steps[-1][0])
    return "\n".join(head + [f"(defun solve ()\n  (let* ({body})\n    {result}))"]) + "\n"


def sbcl_command(memory_mb: int) -> list[str]:
    """The SBCL command line for a harness process with a `memory_mb` heap."""
    sbcl = find_program("sbcl", "install SBCL (Debian: apt-get install sbcl)")
    return [sbcl, "--dynamic-space-size", f"{memory_mb}MB", "--control-stack-size", "8MB",
            "--noinform", "--disable-ldb", "--end-runtime-options",
            "--no-sysinit", "--no-userinit", "--disable-debugger",
            "--load", str(resource("interpreters", "lisp", "harness.lisp"))]


class LispInterpreter(PipeInterpreter):
    """Talks to one SBCL harness process over pipes (lowres_rl.languages.pipe restarts it when it
    dies or overruns). Replies are lines, escaped by the harness: `NONCE STATUS`, then the
    answer, output, error, error type (the condition's type name) and warnings."""

    died = "SBCL exited (an exit call, or heap or stack exhausted beyond recovery)"

    def __init__(self, limits: Limits) -> None:
        super().__init__(sbcl_command(limits.memory_mb))

    def request(self, nonce: str, code: str, query: str, limits: Limits) -> bytes:
        header = f'("{nonce}" {limits.timeout:.3f} {limits.steps} {limits.output_bytes} {len(code)} {len(query)})\n'
        return (header + code + query).encode("utf-8")

    def reply(self, nonce: str, limits: Limits, deadline: float) -> Execution | None:
        lines = self._lines(nonce, deadline)
        if lines is None:
            return None
        status, answer, output, error, error_type, warnings = lines
        status, _, altered = status.partition(" ")
        if status == Status.MEMORY or altered:
            self.stop()  # a heap SBCL survived once is fragile, and one whose packages or functions
            # a program changed (the harness said "!") is not the one the next program should meet
        return Execution(Status(status), answer=answer if status == "ok" else None, stdout=output,
                         error=error, error_type=error_type[:MAX_ERROR_TYPE], warnings=[w for w in warnings.split(WARNING_SEPARATOR) if w])

    def _lines(self, nonce: str, deadline: float) -> tuple[str, ...] | None:
        """Read lines until `NONCE STATUS` and the five lines after it; None on EOF or deadline."""
        lines: list[str] = []
        status = None
        while len(lines) < 5:
            line = self.read_line(deadline)
            if line is None:
                return None
            if status is None:
                head, _, rest = line.partition(" ")
                status = rest if head == nonce else None  # anything else is noise from SBCL itself
            else:
                lines.append(_unescape(line))
        return (status, *lines)  # type: ignore[return-value]


def _unescape(text: str) -> str:
    out, chars = [], iter(text)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "r": "\r", "\\": "\\"}.get(nxt, nxt))
        else:
            out.append(c)
    return "".join(out)
