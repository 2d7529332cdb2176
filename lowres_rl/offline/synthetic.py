"""Seeded generator of GSM-style word problems with reference programs.

Usage::

    from lowres_rl.offline.synthetic import generate, to_row, write_jsonl, TEMPLATES
    problems = generate(100, seed=0)          # round-robin over TEMPLATES
    problems[0].question, problems[0].answer  # "...", "42"
    problems[0].solutions["prolog"]           # code; query solve(X)
    problems[0].mistakes["prolog"]            # the same program with one classic slip
    write_jsonl(problems, "synthetic.jsonl")  # GSM8K-shaped rows

Each template draws names, items and numbers from ``random.Random(seed)`` and
describes its arithmetic as a few named steps.  The same steps give the gold
answer (evaluated in Python), GSM8K-style reasoning, and a program in each
language that writes one (``Language.synthetic``, from a lowres_rl.languages.recipe
``Recipe``: Prolog, Common Lisp and Hy built in) recomputing the answer from the
problem's numbers: its default query (Prolog ``solve(X)``, Lisp/Hy ``(solve)``)
yields the gold answer.
Numbers are chosen so every division is exact and every result non-negative.

Each template also names one classic slip (an operator misread in one step: adding the discount
instead of subtracting it, say); ``mistakes`` holds the programs with that slip. They run, and
give a wrong answer: the wrong-answer programs of tests and benchmarks, and the noise in the
offline demo's warm-up data that GRPO has to learn away (lowres_rl.offline.demo).
"""
from __future__ import annotations

import functools
import json
import operator
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from lowres_rl.languages import Language, PluginError, available_languages, get_language
from lowres_rl.languages.recipe import Expr, Recipe, infix
_PY_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv}

NAMES = ("Ava", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines",
         "Jamal", "Kira", "Leo", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa")
SNACKS = ("cookies", "muffins", "cupcakes", "pies", "bagels", "brownies")
THINGS = ("marbles", "stickers", "shells", "stamps", "pencils", "cards")
GADGETS = ("jacket", "lamp", "backpack", "blender", "helmet", "kettle")
FOODS = ("apples", "notebooks", "sandwiches", "juice boxes", "candles", "pens")
PARCELS = ("gift bags", "parcels", "jars of jam", "crates of pears", "care packages")


@dataclass(frozen=True)
class Problem:
    """One word problem: question, gold answer, template and reference code.

    ``solutions`` maps each language that writes reference programs ("prolog",
    "lisp" and "hy" built in) to program code whose default
    query computes ``answer``; ``reasoning`` is the GSM8K-style worked text;
    ``mistakes`` maps the same languages to the program with the template's slip,
    whose answer is ``mistake_answer`` (never equal to ``answer``).
    """

    question: str
    answer: str
    template: str
    solutions: dict[str, str]
    reasoning: str = ""
    mistakes: dict[str, str] = field(default_factory=dict)
    mistake_answer: str = ""


@dataclass(frozen=True)
class _Spec:
    """What a template produces before rendering: text, inputs, steps, style."""

    question: str
    given: tuple[tuple[str, int], ...]
    steps: tuple[tuple[str, Expr], ...]  # (name, expression); the last is the answer
    style: str  # "inline", "facts" or "helper": varies the program shape
    slip: tuple[str, str] = ("", "")  # (step name, operator it is misread as): the classic mistake


def _bake_sale(r: random.Random) -> _Spec:
    """Multi-step buy/sell/left over: made - sold + baked more."""
    name, food = r.choice(NAMES), r.choice(SNACKS)
    made, extra = r.randint(40, 120), r.randint(5, 30)
    morning, afternoon = r.randint(5, made // 3), r.randint(5, made // 3)
    q = (f"{name} baked {made} {food}. {name} sold {morning} in the morning and "
         f"{afternoon} in the afternoon, then baked {extra} more. "
         f"How many {food} does {name} have now?")
    given = (("made", made), ("morning", morning), ("afternoon", afternoon), ("extra", extra))
    steps = (("sold", ("+", "morning", "afternoon")), ("remaining", ("-", "made", "sold")),
             ("total", ("+", "remaining", "extra")))
    return _Spec(q, given, steps, "inline", ("total", "-"))  # the extra ones taken away


def _road_trip(r: random.Random) -> _Spec:
    """Rates: distance = speed * time over two legs."""
    name = r.choice(NAMES)
    s1, h1, s2, h2 = r.randint(3, 14) * 5, r.randint(2, 5), r.randint(3, 14) * 5, r.randint(2, 4)
    q = (f"{name} drives at {s1} miles per hour for {h1} hours, then at {s2} miles "
         f"per hour for {h2} hours. How many miles does {name} drive in total?")
    given = (("speed_one", s1), ("hours_one", h1), ("speed_two", s2), ("hours_two", h2))
    steps = (("leg_one", ("*", "speed_one", "hours_one")),
             ("leg_two", ("*", "speed_two", "hours_two")),
             ("distance", ("+", "leg_one", "leg_two")))
    return _Spec(q, given, steps, "helper", ("leg_two", "+"))  # speed plus hours


def _work_rate(r: random.Random) -> _Spec:
    """Rates: work per hour * hours per day * days."""
    name, thing = r.choice(NAMES), r.choice(PARCELS)
    rate, hours, days = r.randint(4, 25), r.randint(2, 8), r.randint(2, 6)
    q = (f"{name} can pack {rate} {thing} per hour. {name} works {hours} hours "
         f"a day for {days} days. How many {thing} does {name} pack in all?")
    given = (("rate", rate), ("hours", hours), ("days", days))
    steps = (("per_day", ("*", "rate", "hours")), ("packed", ("*", "per_day", "days")))
    return _Spec(q, given, steps, "facts", ("packed", "+"))  # days added, not multiplied


def _discount(r: random.Random) -> _Spec:
    """Percentages: discounted price times quantity (price multiple of 20, pct of 5)."""
    name, gadget = r.choice(NAMES), r.choice(GADGETS)
    price, pct, qty = 20 * r.randint(1, 15), 5 * r.randint(1, 10), r.randint(2, 4)
    q = (f"A {gadget} costs ${price}. The store is having a {pct}% off sale. "
         f"{name} buys {qty} of them. How many dollars does {name} pay?")
    given = (("price", price), ("pct", pct), ("qty", qty))
    steps = (("saving", ("//", ("*", "price", "pct"), 100)),
             ("sale_price", ("-", "price", "saving")), ("cost", ("*", "sale_price", "qty")))
    return _Spec(q, given, steps, "helper", ("sale_price", "+"))  # the discount added


def _percent_of_total(r: random.Random) -> _Spec:
    """Percentages: the rest after a percent of a total (total multiple of 20)."""
    place, who, some, rest = r.choice((("a school", "students", "ride the bus", "walk"),
                                       ("an orchard", "trees", "grow apples", "grow pears"),
                                       ("a club", "members", "play chess", "play go")))
    total, pct = 20 * r.randint(5, 50), 5 * r.randint(1, 19)
    q = (f"There are {total} {who} in {place}. {pct}% of them {some} and the rest "
         f"{rest}. How many {who} {rest}?")
    given = (("population", total), ("pct", pct))
    steps = (("part", ("//", ("*", "population", "pct"), 100)),
             ("others", ("-", "population", "part")))
    return _Spec(q, given, steps, "facts", ("others", "+"))  # the part added, not removed


def _comparison(r: random.Random) -> _Spec:
    """Comparisons: how many more/fewer, with 'k times as many plus y'."""
    a, b = r.sample(NAMES, 2)
    thing = r.choice(THINGS)
    x, k, y = r.randint(5, 40), r.randint(2, 4), r.randint(1, 20)
    ask = (f"How many more {thing} did {b} collect than {a}?" if r.random() < 0.5
           else f"How many fewer {thing} did {a} collect than {b}?")
    times = {2: "twice", 3: "three times", 4: "four times"}[k]
    q = (f"{a} collected {x} {thing}. {b} collected {y} more than {times} as many "
         f"{thing} as {a}. {ask}")
    given = (("base_count", x), ("times", k), ("bonus", y))
    steps = (("scaled", ("*", "times", "base_count")), ("other_count", ("+", "scaled", "bonus")),
             ("gap", ("-", "other_count", "base_count")))
    return _Spec(q, given, steps, "inline", ("gap", "+"))  # "more than" read as a sum


def _boxes(r: random.Random) -> _Spec:
    """Grouping: boxes of items plus loose ones, shared equally (exact division)."""
    name, thing = r.choice(NAMES), r.choice(THINGS)
    boxes, per_box, friends = r.randint(2, 9), r.randint(6, 24), r.randint(2, 6)
    loose = ((-boxes * per_box) % friends or friends) + friends * r.randint(0, 1)
    q = (f"{name} has {boxes} boxes with {per_box} {thing} in each box and {loose} "
         f"loose {thing}. {name} shares all of them equally among {friends} friends. "
         f"How many {thing} does each friend get?")
    given = (("boxes", boxes), ("per_box", per_box), ("loose", loose), ("friends", friends))
    steps = (("boxed", ("*", "boxes", "per_box")), ("pile", ("+", "boxed", "loose")),
             ("share", ("//", "pile", "friends")))
    return _Spec(q, given, steps, "helper", ("pile", "*"))  # loose ones multiplied in


def _change(r: random.Random) -> _Spec:
    """Money change: pay with the smallest sufficient bill."""
    name, thing, other = r.choice(NAMES), r.choice(FOODS), r.choice(GADGETS)
    qty, price, other_price = r.randint(2, 6), r.randint(2, 9), r.randint(3, 15)
    bill = next(b for b in (20, 50, 100) if b >= qty * price + other_price)
    q = (f"{name} buys {qty} {thing} at ${price} each and a {other} for ${other_price}. "
         f"{name} pays with a ${bill} bill. How many dollars of change does {name} get?")
    given = (("qty", qty), ("price", price), ("extra_cost", other_price), ("bill", bill))
    steps = (("items_cost", ("*", "qty", "price")), ("spent", ("+", "items_cost", "extra_cost")),
             ("change", ("-", "bill", "spent")))
    return _Spec(q, given, steps, "facts", ("spent", "-"))  # the extra item subtracted


_BUILDERS: dict[str, Callable[[random.Random], _Spec]] = {
    "bake_sale": _bake_sale, "road_trip": _road_trip, "work_rate": _work_rate,
    "discount": _discount, "percent_of_total": _percent_of_total,
    "comparison": _comparison, "boxes": _boxes, "change": _change,
}
TEMPLATES: tuple[str, ...] = tuple(_BUILDERS)


def _evaluate(spec: _Spec, strict: bool = True) -> dict[str, int]:
    """Evaluate the steps in Python; `strict` rejects inexact division or negatives (a slipped
    program may well produce either)."""
    env = dict(spec.given)

    def ev(e: Expr) -> int:
        if not isinstance(e, tuple):
            return env[e] if isinstance(e, str) else e
        a, b = ev(e[1]), ev(e[2])
        if strict and e[0] == "//" and a % b:
            raise ValueError(f"inexact division {a} // {b}")
        return _PY_OPS[e[0]](a, b)

    for name, e in spec.steps:
        env[name] = ev(e)
        if strict and env[name] < 0:
            raise ValueError(f"negative intermediate {name}={env[name]}")
    return env


def _slipped(spec: _Spec) -> _Spec:
    """The spec with its slip made: the named step's outermost operator replaced."""
    name, op = spec.slip
    steps = tuple((n, (op, *e[1:]) if n == name and isinstance(e, tuple) else e) for n, e in spec.steps)
    if steps == spec.steps:
        raise ValueError(f"slip {spec.slip} changes no step of {[n for n, _ in spec.steps]}")
    return replace(spec, steps=steps)


@functools.cache
def _languages() -> tuple[Language, ...]:
    """Every registered language that loads (a broken plugin is left out, never fatal here)."""
    found = []
    for name in available_languages():
        try:
            found.append(get_language(name))
        except PluginError:
            continue
    return tuple(found)


def synthetic_languages() -> list[str]:
    """Names of the languages that write programs for synthetic problems (Language.synthetic)."""
    return [language.name for language in _languages() if type(language).synthetic is not Language.synthetic]


def _programs(spec: _Spec) -> dict[str, str]:
    """Each language's reference program for the spec (`Language.synthetic`), by language name."""
    recipe = Recipe(spec.given, spec.steps, spec.style)
    written = {language.name: language.synthetic(recipe) for language in _languages()}
    return {name: code for name, code in written.items() if code is not None}


def _build(template: str, rng: random.Random) -> Problem:
    """Draw one problem from ``template`` (again, in the rare draw where the slip happens to give
    the right answer) and render answer, reasoning, code and the slipped code."""
    while True:
        spec = _BUILDERS[template](rng)
        env = _evaluate(spec)
        answer = env[spec.steps[-1][0]]
        slipped = _slipped(spec)
        wrong = _evaluate(slipped, strict=False)[spec.steps[-1][0]]
        if wrong != answer:
            break
    reasoning = "\n".join(
        f"{n.replace('_', ' ').capitalize()}: {infix(e, lambda v: str(env[v]), '/')} = {env[n]}"
        for n, e in spec.steps)
    return Problem(spec.question, str(answer), template, _programs(spec), reasoning,
                   mistakes=_programs(slipped), mistake_answer=str(wrong))


def generate(n: int, seed: int = 0, templates: Sequence[str] | None = None) -> list[Problem]:
    """Generate ``n`` problems deterministically from ``seed``.

    Templates are used round-robin (so any ``n >= len(templates)`` covers all of
    them); numbers and wording come from ``random.Random(seed)``.
    """
    names = tuple(templates) if templates is not None else TEMPLATES
    unknown = [t for t in names if t not in _BUILDERS]
    if unknown or not names:
        raise ValueError(f"unknown or empty templates: {unknown or names}")
    rng = random.Random(seed)
    return [_build(names[i % len(names)], rng) for i in range(n)]


def to_row(problem: Problem) -> dict[str, str]:
    """GSM8K-shaped row: reasoning lines then ``#### <answer>``."""
    return {"question": problem.question,
            "answer": f"{problem.reasoning}\n#### {problem.answer}"}


def write_jsonl(problems: Iterable[Problem], path: str | Path) -> None:
    """Write problems as GSM8K-shaped JSON lines (see ``to_row``)."""
    with open(path, "w", encoding="utf-8") as fh:
        for problem in problems:
            fh.write(json.dumps(to_row(problem)) + "\n")
