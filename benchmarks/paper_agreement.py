"""How closely the `paper` preset reproduces the paper's own grading of its 520 real completions.

    python benchmarks/paper_agreement.py                 # grade, re-run the paper's method, categorise
    python benchmarks/paper_agreement.py --no-execute    # text analysis only (no pyswip run of the paper's method)

Grades shared/data/paper-completions/completions.jsonl (Qwen2.5-Coder GSM8K -> Prolog completions from
arXiv 2506.11027, with the paper's own 0/1 label `paper_match`) with Grader("paper"), prints the agreement
of our `correct` with `paper_match`, and a table of every disagreement, categorised.

The paper's grader, re-implemented here to explain each disagreement (it runs in a separate process,
`--paper-trace`, one fresh forked child per completion, as the paper did; never in this process):
  1. code = text between the last `<code>` and the next `</code>` (the whole text if there is no tag),
     "```prolog" and "```" removed; query likewise from `<query>`, with "?-" removed as well;
  2. %-comments, /* */ comments, newlines and tabs removed from both;
  3. clauses split with re.split(r'\\s*\\.(?!\\d)\\s*', code), clauses containing '?-' skipped, each
     assertz'ed into a fresh pyswip Prolog;
  4. every solution of the query, every binding in order: correct when float(value) == float(gold);
     a value float() rejects ends the loop as wrong (the paper's print evaluated float() first);
     any exception -> wrong; 5 s -> wrong.
The trace says where it stopped (assert / query / loop), on which clause, and which binding matched;
`reproduced` counts the completions where this re-implementation gives the paper's own label. Like the
paper's grader, these children run the completions' Prolog outside the project's sandbox (with an
address-space limit and the 5 s kill): acceptable for this fixed, inspected data set only.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "paper-completions" / "completions.jsonl"

CATEGORIES = {
    "a": "paper=1 ours=0: the paper credits ANY binding (a later variable or solution) equal to gold; "
         "we take the first numeric binding of the first solution",
    "b": "paper=0 ours=1: the code has a `:- directive` that the paper's assertz rejected (suspected at "
         "first; here pyswip asserts `:- dynamic(f/1)` without error, so a directive is at most a side sign)",
    "c": "paper=0 ours=1: the query block also holds the expected output (`?- q(B).\\nB = 104`), "
         "which the paper ran as one query; we read the first goal",
    "d": "paper=0 ours=1: the paper's period-splitter cut a quoted atom or string containing '.'",
    "e": "paper=0 ours=1: an unbound variable came before the numeric binding; the paper's loop stops "
         "at the first binding that is not a number",
    "f": "paper=0 ours=1: the code came from a fenced block outside the tags (the paper took the whole "
         "text as code)",
    "x": "other",
}


# -- the paper's method, as text --------------------------------------------------------------

def paper_clean(code: str) -> str:
    code = re.sub(r"/\*[\s\S]*?\*/", "", code)
    code = re.sub(r"(?m)%.*$", "", code)
    return re.sub(r"[\n\t]", "", code)


def paper_extract(text: str) -> tuple[str, str]:
    """(code, query) as the paper's grader saw them."""
    code = text.split("<code>")[-1].split("</code>")[0].strip()
    code = code.replace("```prolog", "").replace("```", "")
    query = text.split("<query>")[-1].split("</query>")[0].strip()
    query = query.replace("```prolog", "").replace("```", "").replace("?-", "").strip()
    return paper_clean(code), paper_clean(query)


def paper_clauses(code: str) -> list[str]:
    return [c for c in re.split(r"\s*\.(?!\d)\s*", code) if c]


def dots_inside_quotes(code: str) -> list[str]:
    """Where the paper's splitter cut inside a quoted atom or string ('...' or "..."): the text up to
    each such '.'; a clause cut there has an unbalanced quote and cannot be asserted."""
    cuts, quote, opened = [], None, 0
    for i, c in enumerate(code):
        if quote is not None:
            if c == quote:
                quote = None
            elif c == "." and not code[i + 1:i + 2].isdigit():
                cuts.append(code[opened:i + 1])
        elif c in "'\"":
            quote, opened = c, i
    return cuts


def unbalanced_quotes(clause: str) -> bool:
    return clause.count("'") % 2 == 1 or clause.count('"') % 2 == 1


def query_goals(query: str) -> list[str]:
    """The paper's query cut at clause ends outside quotes: more than one means that the query block
    held more than a goal (typically the expected output, `B = 104`)."""
    goals, quote, start = [], None, 0
    for i, c in enumerate(query):
        if quote is not None:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "." and not query[i + 1:i + 2].isdigit():
            goals.append(query[start:i])
            start = i + 1
    goals.append(query[start:])
    return [g for g in goals if g.strip()]


# -- running the paper's method (the --paper-trace subprocess) ---------------------------------

def _paper_child(code: str, query: str, gold: str, conn: Any) -> None:
    """In a fresh forked child: assert, query, compare, as the paper did; sends a trace dict."""
    import resource

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, resource.RLIM_INFINITY))
    trace: dict[str, Any] = {"match": 0}
    try:
        from pyswip import Prolog

        prolog = Prolog()
        trace["stage"] = "assert"
        for clause in paper_clauses(code):
            if "?-" in clause:
                continue
            trace["clause"] = clause
            prolog.assertz(clause)
        trace.pop("clause", None)
        trace["stage"] = "query"
        solutions = list(prolog.query(query))
        trace.update(stage="loop", solutions=len(solutions))
        for s, solution in enumerate(solutions):
            for v, (name, value) in enumerate(solution.items()):
                try:
                    same = float(value) == float(gold)
                except Exception:  # noqa: BLE001 - what the paper's print did
                    trace.update(outcome="nonnumber", variable=name, value=repr(value)[:80],
                                 value_type=type(value).__name__, solution=s, position=v)
                    conn.send(trace)
                    return
                if same:
                    trace.update(match=1, outcome="match", variable=name, value=repr(value)[:80],
                                 solution=s, position=v)
                    conn.send(trace)
                    return
        trace["outcome"] = "nomatch"
    except Exception as exc:  # noqa: BLE001
        trace.update(outcome="error", error=f"{type(exc).__name__}: {exc}"[:300])
    conn.send(trace)


def paper_trace(rows: list[dict[str, Any]], timeout: float, parallel: int) -> list[dict[str, Any]]:
    """Run the paper's method on every row, `parallel` fresh children at a time."""
    import multiprocessing as mp
    from multiprocessing.connection import wait

    context = mp.get_context("fork")
    traces: list[dict[str, Any] | None] = [None] * len(rows)
    pending = list(range(len(rows)))
    running: dict[Any, tuple[int, Any, float]] = {}
    while pending or running:
        while pending and len(running) < parallel:
            i = pending.pop(0)
            code, query = paper_extract(rows[i]["completion"])
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_paper_child, args=(code, query, rows[i]["answer"], send))
            child.start()
            send.close()
            running[receive] = (i, child, time.monotonic() + timeout)
        nearest = min(deadline for _, _, deadline in running.values())
        ready = wait(list(running), timeout=max(0.0, nearest - time.monotonic()))
        now = time.monotonic()
        for conn in list(running):
            i, child, deadline = running[conn]
            if conn in ready:
                try:
                    traces[i] = conn.recv()
                except EOFError:
                    traces[i] = {"match": 0, "outcome": "died"}
            elif now >= deadline:
                child.kill()
                traces[i] = {"match": 0, "outcome": "timeout"}
            else:
                continue
            child.join()
            conn.close()
            del running[conn]
    return traces  # type: ignore[return-value]


def run_paper_trace(data: Path, timeout: float, parallel: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--paper-trace", "--data", str(data), "--timeout",
                             str(timeout), "--parallel", str(parallel)], stdout=subprocess.PIPE, text=True)


# -- categories --------------------------------------------------------------------------------

def defects(row: dict[str, Any], grade: Any, structure: Any) -> list[str]:
    """Every category whose textual sign is present (whether or not it decided the outcome)."""
    if not structure.contents.get("code") and grade.status != "no_program":
        return ["f"]  # the paper's "code" is then the whole text: the other signs mean nothing
    code, query = paper_extract(row["completion"])
    found = []
    if any(c.lstrip().startswith(":-") for c in paper_clauses(code)):
        found.append("b")
    if len(query_goals(query)) > 1:
        found.append("c")
    if dots_inside_quotes(code):
        found.append("d")
    return found


def categorise(row: dict[str, Any], grade: Any, structure: Any, trace: dict[str, Any] | None) -> tuple[str, str]:
    """(category, detail) for one disagreement: the cause that decided the paper's outcome, read from
    the trace of the paper's method (text signs alone when it was not run)."""
    signs = defects(row, grade, structure)
    if row["paper_match"] == 1:
        if trace and trace.get("outcome") == "match":
            where = (f"binding {trace['variable']}={trace['value']} (solution {trace['solution'] + 1}, "
                     f"variable {trace['position'] + 1})")
            if grade.status == "ok" and (trace["solution"] > 0 or trace["position"] > 0):
                return "a", f"paper matched {where}; ours took the first numeric binding, {grade.answer}"
            return "x", f"paper matched {where}; ours {grade.status} {grade.answer} {grade.error[:80]}"
        if trace is None and grade.status == "ok":
            return "a", f"(text only) ours took {grade.answer}"
        return "x", f"ours {grade.status} {grade.answer} {grade.error[:80]}"
    # paper 0, ours 1
    if "f" in signs:
        return "f", "no <code> block: the paper's code was the whole text, prose included"
    if trace is None:
        for sign in ("d", "c", "b"):
            if sign in signs:
                return sign, "(text only)"
        return "x", "(text only)"
    stage, outcome, clause = trace.get("stage"), trace.get("outcome"), trace.get("clause", "")
    error = trace.get("error", "")
    if outcome == "error" and stage == "assert":
        if clause.lstrip().startswith(":-"):
            return "b", f"assertz({clause[:60]!r}) failed: {error[:80]}"
        if unbalanced_quotes(clause):
            return "d", f"assertz({clause[:60]!r}) failed: {error[:60]}"
    if "c" in signs and (stage == "query" or (stage == "loop" and trace.get("solutions") == 0)):
        query = paper_extract(row["completion"])[1]
        return "c", f"the paper ran {query[:50]!r}: {outcome}, {trace.get('solutions', 0)} solutions {error[:40]}"
    if outcome == "nonnumber" and trace.get("value_type") == "Variable":
        return "e", (f"{trace['variable']} was unbound (solution {trace['solution'] + 1}, variable "
                     f"{trace['position'] + 1}); ours took the first numeric binding, {grade.answer}")
    return "x", f"paper {outcome} at {stage} ({trace.get('solutions', '-')} solutions): {error[:80]}"


# -- main ----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-execute", action="store_true", help="do not run the paper's method (text only)")
    parser.add_argument("--timeout", type=float, default=5.0, help="the paper's per-completion limit (s)")
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--paper-trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"paper completions not found at {args.data}", file=sys.stderr)
        return 2
    with args.data.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]

    if args.paper_trace:  # the subprocess: no threads here, so forking children is safe
        for trace in paper_trace(rows, args.timeout, args.parallel):
            print(json.dumps(trace))
        return 0

    tracer = None if args.no_execute else run_paper_trace(args.data, args.timeout, args.parallel)

    from lowres_rl.grading.response import analyse
    from lowres_rl.grading.rewards import Grader

    started = time.perf_counter()
    grades = Grader("paper").grade([r["completion"] for r in rows], [r["answer"] for r in rows], "prolog",
                                   [r["question"] for r in rows])
    seconds = time.perf_counter() - started
    traces: list[dict[str, Any] | None] = [None] * len(rows)
    if tracer is not None:
        output, _ = tracer.communicate()
        if tracer.returncode == 0:
            traces = [json.loads(line) for line in output.splitlines()]
        else:
            print(f"(the paper-method run failed with code {tracer.returncode}; text analysis only)")

    n = len(rows)
    agree = sum(int(g.correct) == r["paper_match"] for g, r in zip(grades, rows))
    print(f"paper preset on {n} paper completions: graded in {seconds:.1f}s")
    print(f"agreement of `correct` with paper_match: {agree}/{n} = {agree / n:.2%}")
    print(f"  paper_match=1: {sum(r['paper_match'] for r in rows)}   ours correct: {sum(g.correct for g in grades)}")
    by_source: dict[str, list[int]] = {}
    for g, r in zip(grades, rows):
        by_source.setdefault(r["source"].removeprefix("results/"), []).append(int(int(g.correct) == r["paper_match"]))
    for source, hits in by_source.items():
        print(f"  {source:<38} {sum(hits):>4}/{len(hits):<4} {sum(hits) / len(hits):.1%}")
    if traces[0] is not None:
        reproduced = sum(t["match"] == r["paper_match"] for t, r in zip(traces, rows))  # type: ignore[index]
        print(f"re-implemented paper grader reproduces paper_match on {reproduced}/{n}")

    disagreements = []
    for i, (row, grade, trace) in enumerate(zip(rows, grades, traces)):
        if int(grade.correct) != row["paper_match"]:
            structure = analyse(row["completion"])
            category, detail = categorise(row, grade, structure, trace)
            also = [s for s in defects(row, grade, structure) if s != category]
            disagreements.append((i, row, grade, category, detail, also))

    print(f"\n{len(disagreements)} disagreements\n")
    print(f"{'row':>4} {'paper':>5} {'ours':>4} {'cat':>3}  {'also':<5} {'source':<38} detail")
    for i, row, grade, category, detail, also in disagreements:
        print(f"{i:>4} {row['paper_match']:>5} {int(grade.correct):>4} {category:>3}  {','.join(also):<5} "
              f"{row['source'].removeprefix('results/'):<38} {detail}")

    counts = Counter(category for *_, category, _, _ in disagreements)
    print("\ncategory  count  meaning")
    for key, meaning in CATEGORIES.items():
        if counts[key] or key != "x":
            print(f"  ({key}) {counts[key]:>6}  {meaning}")
    print("\none example per category:")
    for key in CATEGORIES:
        example = next((d for d in disagreements if d[3] == key), None)
        if example is None:
            continue
        i, row, grade, _, detail, _ = example
        code, query = paper_extract(row["completion"])
        print(f"\n({key}) row {i} ({row['source']}), gold {row['answer']}, ours {grade.status} {grade.answer}")
        print(f"    {detail}")
        print(f"    paper code:  {code[:150]!r}")
        print(f"    paper query: {query[:150]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
