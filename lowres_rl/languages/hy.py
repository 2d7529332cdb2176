"""Hy: Python's Lisp, compiled inside sandbox workers and run in one forked child per program.

The answer is the value of the query expression (`(total)`); without a query, `(solve)`. The
worker imports Hy once. For each program it reads and compiles the code to Python bytecode itself
(most of the cost), then forks a child that only runs the bytecode in a fresh module
namespace. Whatever a program does to its Python process — redefine builtins, patch the worker's
own functions, swallow every exception around an endless loop — dies with the child: the worker
kills it at the limit and stays clean for the next program. `SystemExit` and every other
BaseException are contained in the child.

Compiling in the worker is safe only while compiling runs no code of the program's own. Reading
is (all forms are read first, by a fresh reader that knows only Hy's own reader macros, as
before); compiling runs program code only through macros, and a fresh module has none but Hy's
core ones. So a program that defines or pulls in macros (`defmacro`, `require`, `hy.R`,
`eval-when-compile`, `do-mac`, ...) is compiled in its child instead, form by form as `hy` does
(about twice as slow, same result).

Endless loops: the compiled code counts one step per loop iteration, function call and
comprehension element (`Limits.steps`); past the budget it raises an exception no `except
Exception` catches, and the program is graded a timeout however it goes on. A loop it cannot see
(a builtin iterating forever) meets the wall-clock limit.

Number literals (for the hard-coding check): `;` comments, strings and `#[[…]]` bracket strings;
Python numbers with `_` and `,` separators, `0x`, `0o`, `0b`.
"""
from __future__ import annotations

import ast
import gc
import json
import os
import re
import select
import signal
import sys
import time
import types
from dataclasses import dataclass
from typing import Any, Iterator

from lowres_rl.languages.base import BaseInterpreter, Comments, Language
from lowres_rl.languages.contract import MAX_ERROR_TYPE, Execution, Interpreter, Limits, Status, canonical_number
from lowres_rl.languages.confined import confined_namespace, is_confined
from lowres_rl.languages.numerals import Literal, NumberSyntax, decimal, integer
from lowres_rl.languages.recipe import Recipe, kebab, prefix, variables

MAX_CHILD_REPLY = 1 << 20  # bytes of a child's result a worker reads
TICK = "__lowres_step__"  # the counting function's name in the program's globals
# Macros that run code while compiling (mangled names, and the parts of dotted ones: `hy.R.m.f`).
COMPILE_TIME = frozenset({"defmacro", "defreader", "require", "eval_when_compile", "eval_and_compile",
                          "do_mac", "get_macro", "local_macros", "pragma", "R"})

# Number literals, for the hard-coding check (see lowres_rl.languages.numerals).
_LITERALS = re.compile(r"""
    (?>(?: ;[^\n]* | "(?:[^"\\]|\\[\s\S])*"? | \#\[(?P<delim>[^\[\]\s]{0,32})\[[\s\S]*?(?:\](?P=delim)\]|\Z)
         | [^\s()\[\]{}"';`~0-9+\-.][^\s()\[\]{}"';`~]* | [\s()\[\]{}'`~] )*)
    (?P<token> [0-9+\-.][^\s()\[\]{}"';`~]* )?
""", re.VERBOSE)
_NUMBER = re.compile(r"([-+]?)(0[xX][0-9a-fA-F_,]+|0[oO][0-7_,]+|0[bB][01_,]+"
                        r"|[\d_,]*\.?[\d_,]*(?:[eE][-+]?[\d_]+)?)")


def _literal(m: re.Match) -> Literal | None:
    number = m.group("token") and _NUMBER.fullmatch(m.group("token"))
    body = number.group(2) if number else ""
    if not (body[:1].isdigit() or body[:1] == "." and body[1:2].isdigit()):
        return None
    if body[:2].lower() in ("0x", "0o", "0b"):
        value, is_float = integer(body[2:], {"x": 16, "o": 8, "b": 2}[body[1].lower()]), False
    else:
        is_float = any(c in body for c in ".eE")
        value = decimal(body) if is_float else integer(body)
    start = m.start("token") + len(number.group(1))
    return None if value is None else Literal(start, m.end(), value, is_float)


Units = Iterator[tuple[str, types.CodeType]]  # ("exec" | "eval", code), run in order; the last eval is the value


class Hy(Language):
    name = "hy"
    fence = ("hy", "hylang")
    default_query = "(solve)"
    extension = ".hy"
    comments = Comments(line=(";",))
    number_syntax = NumberSyntax(_LITERALS, _literal)

    def interpreter(self, limits: Limits) -> Interpreter:
        return HyInterpreter()

    def synthetic(self, recipe: Recipe) -> str:
        return program(recipe)


class StepLimit(BaseException):
    """Raised by the step counter: a BaseException, so `except Exception` does not stop it."""


@dataclass
class Prepared:
    """A program read in the worker: compiled there (`units`; `confined` when it may also run
    there, see lowres_rl.languages.confined), or to be compiled form by form in its child, since
    compiling it runs code of its own."""

    module: types.ModuleType
    code: str
    forms: list
    query: Any
    units: list[tuple[str, types.CodeType]] | None = None
    confined: bool = False


class HyInterpreter(BaseInterpreter):
    """Compiles in the worker (when that runs no program code), forks a child per program (the
    worker is single-threaded, so forking is safe) and reads its Execution back over a pipe,
    killing it at the deadline."""

    def __init__(self) -> None:
        import hy
        from hy.errors import HyLanguageError
        from hy.reader.exceptions import LexException

        self._hy = hy
        self._syntax_errors = (LexException, HyLanguageError, SyntaxError)
        # Compile and run one program here, so that what Hy builds lazily on first use exists
        # before the first fork, then freeze the heap: children then touch (copy) fewer pages.
        warm = self._prepare("(defn solve [] (setv x 6) (* x 7))", "(solve)")
        assert isinstance(warm, Prepared) and warm.units, warm
        self._run(warm.module.__dict__, iter(warm.units), Limits())
        gc.collect()
        gc.freeze()

    def execute(self, code: str, query: str, limits: Limits) -> Execution:
        prepared = self._prepare(code, query)
        if isinstance(prepared, Execution):  # a syntax error, found without running anything
            return prepared
        if prepared.confined:
            return self._run(confined_namespace(), iter(prepared.units or ()), limits)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            _keep_only(write_fd)
            self._child(prepared, limits, write_fd)
        os.close(write_fd)
        try:
            return self._collect(pid, read_fd, time.monotonic() + limits.timeout, limits)
        finally:
            os.close(read_fd)

    # -- in the worker -------------------------------------------------------------------------

    def _prepare(self, code: str, query: str) -> Prepared | Execution:
        """Read the program; compile it too, unless compiling would run program code."""
        hy = self._hy
        try:
            forms = list(hy.read_many(code, filename="program.hy"))
            query_forms = list(hy.read_many(query, filename="query.hy"))
        except self._syntax_errors as exc:
            return _failed(Status.SYNTAX_ERROR, exc)
        except (MemoryError, RecursionError) as exc:
            return _failed(Status.MEMORY, exc)
        except Exception as exc:  # noqa: BLE001 - the reader failing in some other way on odd text
            return _failed(Status.SYNTAX_ERROR, exc)
        if len(query_forms) != 1:
            return Execution(Status.SYNTAX_ERROR, error="the query must be exactly one expression")
        prepared = Prepared(types.ModuleType("program"), code, forms, query_forms[0])
        if _runs_at_compile_time(forms) or _runs_at_compile_time(query_forms):
            return prepared
        try:
            trees = list(self._trees(prepared, whole=True))
            prepared.confined = all(is_confined(tree) for _, tree in trees)
            prepared.units = [(mode, _bytecode(tree, mode)) for mode, tree in trees]
        except self._syntax_errors as exc:
            return _failed(Status.SYNTAX_ERROR, exc)
        except (MemoryError, RecursionError) as exc:
            return _failed(Status.MEMORY, exc)
        except Exception as exc:  # noqa: BLE001 - a core macro refusing its arguments, say
            return _failed(Status.RUNTIME_ERROR, exc)
        return prepared

    def _trees(self, prepared: Prepared, whole: bool) -> Iterator[tuple[str, ast.AST]]:
        """The program as Python ASTs: compiled `whole` (one tree for all forms), or form by form,
        lazily, as `hy.eval` does, so that a macro a form defines serves the next ones."""
        from hy.compiler import hy_compile
        from hy.models import Expression, Symbol

        module, source = prepared.module, prepared.code
        options = dict(import_stdlib=False)  # the compiler puts `hy` in the module's namespace itself
        if whole:
            yield "exec", hy_compile(Expression([Symbol("do"), *prepared.forms]), module, filename="program.hy",
                                     source=source, **options)
        else:
            for form in prepared.forms:
                body, value = hy_compile(form, module, get_expr=True, filename="program.hy", source=source,
                                         **options)
                yield "exec", body
                yield "eval", value
        body, value = hy_compile(prepared.query, module, get_expr=True, filename="query.hy", **options)
        yield "exec", body
        yield "eval", value

    def _collect(self, pid: int, fd: int, deadline: float, limits: Limits) -> Execution:
        chunks, size = [], 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Execution(Status.TIMEOUT, error=f"killed after the {limits.timeout:g}s limit")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_CHILD_REPLY:  # the child's reply is a few fields: this is a flood
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Execution(Status.CRASHED, error="the program's process flooded its result pipe")
            chunks.append(chunk)
        _, wait_status = os.waitpid(pid, 0)
        try:
            return Execution.from_dict(json.loads(b"".join(chunks)), limits)
        except Exception:  # noqa: BLE001 - whatever the child wrote: ValueError, RecursionError, ...
            how = f"signal {os.WTERMSIG(wait_status)}" if os.WIFSIGNALED(wait_status) else \
                f"exit code {os.WEXITSTATUS(wait_status)}"
            return Execution(Status.CRASHED, error=f"the program's process died ({how}) before answering")

    # -- in the child --------------------------------------------------------------------------

    def _child(self, prepared: Prepared, limits: Limits, write_fd: int) -> None:
        """Run the program, send its Execution as JSON, and exit without returning."""
        try:
            units = iter(prepared.units) if prepared.units is not None else \
                ((mode, _bytecode(tree, mode)) for mode, tree in self._trees(prepared, whole=False))
            reply = self._run(prepared.module.__dict__, units, limits).to_dict()
        except BaseException as exc:  # noqa: BLE001 - whatever escapes is the program's error
            reply = _failed(Status.RUNTIME_ERROR, exc).to_dict()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a program may have closed or replaced it
                pass
        data = json.dumps(reply).encode()
        while data:
            data = data[os.write(write_fd, data):]
        os._exit(0)

    def _run(self, namespace: dict[str, Any], units: Units, limits: Limits) -> Execution:
        """Run the units in `namespace` with a step budget; the last eval's value is the answer.
        Units still to be compiled (form by form) may fail to compile: syntax errors."""
        left = limits.steps

        def step() -> None:
            nonlocal left
            left -= 1
            if left < 0:
                raise StepLimit

        namespace[TICK] = step
        value = None
        try:
            while True:
                try:
                    mode, code = next(units)
                except StopIteration:
                    break
                except self._syntax_errors as exc:
                    return _failed(Status.SYNTAX_ERROR, exc)
                if mode == "eval":
                    value = eval(code, namespace)
                else:
                    exec(code, namespace)
        except StepLimit:
            pass
        except (MemoryError, RecursionError) as exc:
            return _failed(Status.MEMORY, exc)
        except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: all contained
            if left >= 0:
                return _failed(Status.RUNTIME_ERROR, exc)
        if left < 0:  # out of steps, whatever the program did after (it may have caught the raise)
            return Execution(Status.TIMEOUT, error=f"step limit exceeded ({limits.steps} loop iterations and calls)")
        try:
            number = canonical_number(value)
            return Execution(Status.OK, answer=number if number is not None else _short_repr(value))
        except ValueError as exc:  # an integer too long to write out
            return Execution(Status.RUNTIME_ERROR, error=str(exc))


def _keep_only(fd: int) -> None:
    """In the child, before any program code: close every descriptor but 0-2 and `fd` (its own
    result pipe). The worker's protocol pipes are then out of the program's reach — a frame of
    its own on them would be a forged result — and so is the worker's log."""
    os.closerange(3, fd)
    os.closerange(fd + 1, os.sysconf("SC_OPEN_MAX"))


def _runs_at_compile_time(forms: list) -> bool:
    """Whether any symbol in `forms` names a macro that runs code while compiling."""
    from hy import mangle
    from hy.models import Symbol

    stack = list(forms)
    while stack:
        form = stack.pop()
        if isinstance(form, Symbol):
            if any(part in COMPILE_TIME for part in mangle(form).split(".")):
                return True
        elif isinstance(form, tuple):  # every Hy collection model is a tuple: lists, f-strings, ...
            stack.extend(form)
    return False


class _Counted(ast.NodeTransformer):
    """Counts one step at the start of every function body and loop body and for every element
    a comprehension considers: endless loops and runaway recursion run out of steps."""

    @staticmethod
    def _step(where: ast.AST) -> ast.Call:
        """A call of the step function, placed (for tracebacks) where `where` is."""
        call = ast.Call(ast.Name(TICK, ast.Load()), [], [])
        for node in ast.walk(call):
            ast.copy_location(node, where)
        return call

    def _count_body(self, node: ast.AST) -> ast.AST:
        self.generic_visit(node)
        body = node.body  # type: ignore[attr-defined]
        docstring = bool(body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        body.insert(1 if docstring else 0, ast.copy_location(ast.Expr(self._step(node)), node))
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_While = visit_For = visit_AsyncFor = _count_body

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        self.generic_visit(node)
        node.body = ast.copy_location(ast.BoolOp(ast.Or(), [self._step(node), node.body]), node.body)
        return node  # the step returns None, so the lambda's value is its body's

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.ifs.append(ast.copy_location(ast.UnaryOp(ast.Not(), self._step(node.iter)), node.iter))
        return node


def _bytecode(tree: ast.AST, mode: str) -> types.CodeType:
    filename = "query.hy" if mode == "eval" else "program.hy"
    return compile(_Counted().visit(tree), filename, mode)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _failed(status: Status, exc: BaseException) -> Execution:
    """The Execution of a program that raised `exc`: its message, and its class as the error type."""
    return Execution(status, error=_describe(exc), error_type=type(exc).__name__[:MAX_ERROR_TYPE])


def _short_repr(value: object) -> str:
    try:
        return repr(value)[:200]
    except Exception:  # a program's object may have a hostile __repr__
        return f"<{type(value).__name__}>"


def program(recipe: Recipe) -> str:
    """A reference program for a synthetic problem: (solve) with setv or let, globals or helper defns."""
    result = kebab(recipe.steps[-1][0])
    if recipe.style == "facts":
        head = [f"(setv {kebab(n)} {v})" for n, v in recipe.given]
        pairs = " ".join(f"{kebab(n)} {prefix(e, kebab, '//')}" for n, e in recipe.steps)
        return "\n".join(head + [f"(defn solve []\n  (let [{pairs}]\n    {result}))"]) + "\n"
    head, lines = [], [f"(setv {kebab(n)} {v})" for n, v in recipe.given]
    for n, e in recipe.steps:
        if recipe.style == "helper":
            params = " ".join(map(kebab, variables(e)))
            head.append(f"(defn compute-{kebab(n)} [{params}]\n  {prefix(e, kebab, '//')})")
            lines.append(f"(setv {kebab(n)} (compute-{kebab(n)} {params}))")
        else:
            lines.append(f"(setv {kebab(n)} {prefix(e, kebab, '//')})")
    body = "\n  ".join(lines + [result])
    return "\n".join(head + [f"(defn solve []\n  {body})"]) + "\n"
