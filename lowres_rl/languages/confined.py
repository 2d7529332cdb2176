"""Confinement: which compiled programs may run inside the Hy worker itself, without a fork.

    if is_confined(tree):                       # a Python AST compiled from the program
        exec(code, confined_namespace())        # fresh globals, pure builtins only

Forking a child per program keeps the worker clean whatever the program does, but it is about
half of what a Hy program costs (benchmarks/README.md, "Costs behind design choices"). Most GSM8K programs are arithmetic on their own numbers,
and for those the fork buys nothing: a program whose code reads no attributes, imports nothing,
names nothing with a leading `__`, defines no classes and calls only pure builtins can reach no
object but its own values and those builtins, so there is nothing in the worker it could change.
It cannot catch the step limit either: it cannot name BaseException, write a bare `except`, or
leave a `finally` block early. What it can still do — loop inside a builtin, build a huge number,
exhaust memory — the pool's deadline and the worker's OS limits stop, as they stop any program;
the worker is then replaced. Everything else runs in a forked child.
"""
from __future__ import annotations

import ast
import builtins
from typing import Any

PURE_BUILTINS = frozenset({
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "dict",
    "divmod", "enumerate", "filter", "float", "format", "frozenset", "hex", "int", "isinstance",
    "issubclass", "iter", "len", "list", "map", "max", "min", "next", "oct", "ord", "pow", "print",
    "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip",
    "Ellipsis", "NotImplemented",
}) | frozenset(name for name, value in vars(builtins).items()  # ValueError, ZeroDivisionError, ...
               if isinstance(value, type) and issubclass(value, Exception))
OTHER_BUILTINS = frozenset(dir(builtins)) - PURE_BUILTINS  # open, getattr, __import__, BaseException, ...

_NODES = tuple(getattr(ast, name) for name in (
    "Module", "Expression", "Interactive",
    "FunctionDef", "Return", "Delete", "Assign", "AugAssign", "AnnAssign", "For", "While", "If",
    "Raise", "Try", "Assert", "Global", "Nonlocal", "Expr", "Pass", "Break", "Continue",
    "BoolOp", "NamedExpr", "BinOp", "UnaryOp", "Lambda", "IfExp", "Dict", "Set", "ListComp",
    "SetComp", "DictComp", "GeneratorExp", "Compare", "Call", "FormattedValue", "JoinedStr",
    "Constant", "Subscript", "Starred", "Name", "List", "Tuple", "Slice",
    "expr_context", "boolop", "operator", "unaryop", "cmpop", "comprehension", "ExceptHandler",
    "arguments", "arg", "keyword",
))


def is_confined(tree: ast.AST) -> bool:
    """Whether the program in `tree` can touch nothing outside its own values (see above)."""
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            return False  # Attribute, Import, ClassDef, With, Yield, Await, Match, ...
        if isinstance(node, ast.Name) and (node.id.startswith("__") or node.id in OTHER_BUILTINS):
            return False
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            return False
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            return False  # a bare `except:` would catch the step limit
        if isinstance(node, ast.Try) and _leaves_early(node.finalbody):
            return False  # `return`, `break` or `continue` in `finally` swallows any exception
    return True


def _leaves_early(body: list[ast.stmt]) -> bool:
    return any(isinstance(node, (ast.Return, ast.Break, ast.Continue)) for stmt in body for node in ast.walk(stmt))


_PURE = {name: getattr(builtins, name) for name in PURE_BUILTINS}


def confined_namespace() -> dict[str, Any]:
    """Fresh globals for one confined program: its own copy of the pure builtins, so that not
    even a change to that dict could outlive the program."""
    return {"__builtins__": dict(_PURE), "__name__": "program"}
