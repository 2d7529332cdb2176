"""A synthetic word problem's arithmetic as plain data, for a language to write as a program.

    recipe = Recipe(given=(("price", 12), ("count", 3)),
                    steps=(("cost", ("*", "price", "count")),), style="inline")
    language.synthetic(recipe)   # code whose default query computes the last step (36)

lowres_rl.offline.synthetic draws the problems; each language writes its own reference program
(`Language.synthetic`), with the renderers below. Division is always exact integer division `//`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

Expr = Union[str, int, tuple]  # variable name, integer literal, or (op, left, right); op in + - * //


@dataclass(frozen=True)
class Recipe:
    """The problem's numbers (`given`), its named steps in order (the last is the answer), and a
    `style` that varies the program's shape: "inline" (locals), "facts" (top-level constants) or
    "helper" (one helper function per step)."""

    given: tuple[tuple[str, int], ...]
    steps: tuple[tuple[str, Expr], ...]
    style: str


def camel(name: str) -> str:
    """Prolog variable name for a snake_case name."""
    return "".join(p.capitalize() for p in name.split("_"))


def kebab(name: str) -> str:
    """Lisp symbol (kebab-case) for a snake_case name."""
    return name.replace("_", "-")


def variables(e: Expr) -> list[str]:
    """Variable names used by an expression, in first-use order."""
    if isinstance(e, tuple):
        return list(dict.fromkeys(variables(e[1]) + variables(e[2])))
    return [e] if isinstance(e, str) else []


def infix(e: Expr, leaf: Callable[[str], str], div: str = "//", top: bool = True) -> str:
    """Render an expression infix (`A * (B + C)`); `div` spells integer division."""
    if not isinstance(e, tuple):
        return leaf(e) if isinstance(e, str) else str(e)
    op = div if e[0] == "//" else e[0]
    body = f"{infix(e[1], leaf, div, False)} {op} {infix(e[2], leaf, div, False)}"
    return body if top else f"({body})"


def prefix(e: Expr, leaf: Callable[[str], str], div: str) -> str:
    """Render an expression as an s-expression; `div` spells integer division."""
    if not isinstance(e, tuple):
        return leaf(e) if isinstance(e, str) else str(e)
    op = div if e[0] == "//" else e[0]
    return f"({op} {prefix(e[1], leaf, div)} {prefix(e[2], leaf, div)})"
