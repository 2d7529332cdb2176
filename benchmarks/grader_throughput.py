"""Run from the repository root (SWI-Prolog, SBCL and Hy installed, lowres-rl installed):

    python benchmarks/grader_throughput.py              # the full benchmark (about 1.5 min on 2 idle cores,
                                                        # plus the N-graders runs; --ranks '' skips them)
    python benchmarks/grader_throughput.py --quick      # a tiny smoke version (about 20-30 s)
    python benchmarks/grader_throughput.py --languages prolog --batch-sizes 512 --workers 1,2
    python benchmarks/grader_throughput.py --help       # every flag

Grader throughput: lowres_rl's Grader (persistent sandbox workers) against one fresh interpreter
process per program, measured in the same run on the same kind of programs.

What it does, per language (prolog, lisp, hy):

  1. Builds model-like completions from synthetic problems (lowres_rl.offline.synthetic) in the response
     format (lowres_rl.data.prompt.render_response), with a mix of outcomes: correct programs, wrong
     answers (one of the problem's numbers perturbed), syntax errors, runtime errors (a call to an
     undefined helper) and a few infinite loops (--loops-percent).
  2. Baseline: one fresh interpreter process per program, one after another, with the same
     timeout as a subprocess timeout (`swipl -q -g GOAL -t halt prog.pl`, `sbcl --script
     prog.lisp`, `hy prog.hy`): how typical reference implementations grade. It runs on a
     stratified subsample (--baseline-sample); its programs/second for a given mix is estimated
     from the mean seconds per program of each kind, weighted by that mix.
  3. The Grader (`Grader(preset, limits=Limits(timeout=...), workers=N).grade(...)`) on batches
     of --batch-sizes at all cores and on --workers counts at --headline-batch (or the full grid
     with --grid full); programs/second and the ratio to the baseline on the same mix. Pools are
     warm (started before the timed batch, as during training); cold start is reported apart.
  4. The headline batch with no infinite loops (target: under 1 s for Prolog and Hy).
  5. The headline batch with --runaway-percent runaway programs: the time it takes beyond the
     loop-free batch, against the bound (runaways / workers) x limit (5% tolerance); and with
     --stubborn-percent runaways that defeat the interpreters' own limits, so that the pool (or the
     Lisp worker) must kill them (shown, not judged: a kill comes at limit + grace).
  5b. The cost of the hard-coding check (lowres_rl.grading.hardcoding): the loop-free headline batch graded
     with and without it (`Grader(..., check_hardcoding=False)`); the check re-runs each correct
     program once with the question's numbers changed (twice when the answer did not move).
  6. Worker memory: VmRSS of the pool's worker processes and all their children (/proc) after
     --memory-early programs against after --memory-programs programs (a loop-free mix run through
     the language's pool, `get_language(name).run`, from the main thread), and one worker's growth
     per 1000 programs over its own life (what the pool's recycling hides).
  7. N graders at once (--ranks, default 1, 2, 4; not in --quick): N processes, as N training
     ranks on one machine, each with its own Grader and pools at their default size (this rank's
     share of the CPUs, LOCAL_WORLD_SIZE=N) and, for N > 1, with one worker per core each (the
     old default); each grades the loop-free headline batch from a shared start: seconds of the
     slowest rank, programs/second per rank and in total, and the total against one grader.

It ends with a summary table of PASS/FAIL against the targets (Prolog >= 20x the baseline,
Hy >= 10x, Lisp >= 5x, on the realistic mix and with no loops; 512 loop-free completions under
1 s for Prolog and Hy; worker memory after the long run at most 20% above after the short one;
extra time from loop runaways within the bound, +5%). The exit status is 0 whatever the
verdicts: this is a measurement, not a test. Timings depend on the machine being otherwise idle:
the load average is printed at the start and the end. benchmarks/README.md explains every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from lowres_rl.grading.answers import answers_match
from lowres_rl.languages import Limits, Program, get_language
from lowres_rl.data.prompt import Example, render_response, shown_query
from lowres_rl.grading.rewards import Grader
from lowres_rl.offline.synthetic import Problem, generate
from lowres_rl import sandbox

LANGUAGES = ("prolog", "lisp", "hy")
KINDS = ("correct", "wrong", "syntax", "runtime", "loop", "stubborn")
SHORT = {"correct": "ok", "wrong": "wrong", "syntax": "syn", "runtime": "rt", "loop": "loop",
         "stubborn": "stub"}
TARGET_SPEEDUP = {"prolog": 20.0, "hy": 10.0, "lisp": 5.0}
TARGET_NO_LOOP_SECONDS = {"prolog": 1.0, "hy": 1.0}
TARGET_MEMORY_GROWTH = 0.20
WARMED_UP = 100  # programs a worker serves before its memory counts for its growth rate
RUNAWAY_TOLERANCE = 1.05  # runaway extra time may pass the bound by 5% (timer and unwinding overhead)
CORES = os.cpu_count() or 1


# -- the programs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One completion to grade: its kind (what was done to the reference program) and text."""

    kind: str
    language: str
    code: str
    gold: str
    question: str
    completion: str


_SOLVE_HEAD = {"prolog": "solve(X) :-\n    ", "lisp": "(defun solve ()\n  ", "hy": "(defn solve []\n  "}
_MISSING_CALL = {"prolog": "missing_step(_),\n    ", "lisp": "(missing-step)\n  ", "hy": "(missing-step)\n  "}
# Runaways stopped by the interpreters' own work budgets (Prolog's inference limit, the step
# budgets of Lisp and Hy, Limits.steps): no kill, the worker goes on.
_LOOP = {
    "prolog": ("count_up(N, X) :- N1 is N + 1, count_up(N1, X).\n", "count_up(0, _),\n    "),
    "lisp": ("", "(do ((i 0 (1+ i))) ((< i 0)))\n  "),
    "hy": ("", "(setv i 0)\n  (while (>= i 0) (setv i (+ i 1)))\n  "),
}
# Runaways those budgets cannot stop, so something outside the interpreter must: Prolog catches
# its inference limit and starts again (the pool kills the worker at limit + grace); Lisp loops
# with cl:loop, which the step budget does not count, and catches sb-ext:with-timeout (the Lisp
# worker kills SBCL at limit + 0.25 s); Hy loops inside a builtin (the Hy worker kills the
# program's child at the limit).
_STUBBORN = {
    "prolog": "spin :- spin.\nsolve(X) :- catch(spin, _, solve(X)).\n",
    "lisp": "(defun solve ()\n  (handler-case (cl:loop) (serious-condition () (solve))))\n",
    "hy": "(import itertools)\n(defn solve []\n  (sum (itertools.count)))\n",
}


def _numbers(text: str) -> list[str]:
    return re.findall(r"(?<![\w.])\d+(?![\w.])", text)


def mutate(kind: str, language: str, problem: Problem, rng: random.Random) -> str:
    """The reference program of `problem`, changed so that it has outcome `kind`."""
    code = problem.solutions[language]
    head = _SOLVE_HEAD[language]
    if kind == "correct":
        return code
    if kind == "wrong":  # perturb one of the problem's own numbers where the program states it
        given = [n for n in dict.fromkeys(_numbers(code)) if n in _numbers(problem.question)]
        target = rng.choice(given or _numbers(code))
        bumped = str(int(target) + rng.randint(1, 3))
        return re.sub(rf"(?<![\w.]){target}(?![\w.])", bumped, code, count=1)
    if kind == "syntax":
        if language == "prolog":
            return code.replace(",\n", ",,\n", 1)
        return code.rstrip()[:-1] + "\n"  # one closing parenthesis short
    if kind == "runtime":
        return code.replace(head, head + _MISSING_CALL[language], 1)
    if kind == "loop":
        extra, call = _LOOP[language]
        return extra + code.replace(head, head + call, 1)
    if kind == "stubborn":  # a comment naming the problem: identical programs would run once per batch
        return _STUBBORN[language] + ("% " if language == "prolog" else "; ") + problem.question[:40] + "\n"
    raise ValueError(f"unknown kind {kind!r}")


def allocate(n: int, percents: dict[str, float]) -> dict[str, int]:
    """Counts per kind for `n` programs: each kind rounded, at least one where its percentage is
    above zero (so a small batch still gets "a few" loops); `correct` takes what is left."""
    counts = {k: max(1, int(n * p / 100.0 + 0.5)) for k, p in percents.items() if k != "correct" and p > 0}
    if sum(counts.values()) > n:
        raise ValueError(f"{n} programs cannot hold the mix {percents}")
    counts["correct"] = n - sum(counts.values())
    return counts


def make_cases(language: str, n: int, percents: dict[str, float], seed: int) -> list[Case]:
    """`n` completions for `language`, their kinds in `percents` proportions, in shuffled order."""
    counts = allocate(n, percents)
    kinds = [k for k in KINDS for _ in range(counts.get(k, 0))]
    rng = random.Random(f"{seed}-{language}-{n}")
    rng.shuffle(kinds)
    problems = generate(n, seed=seed)
    query = shown_query(language)
    cases = []
    for kind, problem in zip(kinds, problems):
        code = mutate(kind, language, problem, rng)
        text = render_response(Example(problem.question, problem.reasoning, code, query))
        cases.append(Case(kind, language, code, problem.answer, problem.question, text))
    return cases


def expected(kind: str, status: str, correct: bool) -> bool:
    """Whether a grade is what the kind of program should get (a sanity check on the run)."""
    return {
        "correct": correct,
        "wrong": status == "ok" and not correct,
        "syntax": status == "syntax_error",
        "runtime": status == "runtime_error",
        "loop": status in ("timeout", "memory"),
        "stubborn": status in ("timeout", "memory", "crashed"),
    }[kind]


# -- the baseline: one fresh process per program -----------------------------------------------

def baseline_command(language: str, code: str, directory: str) -> list[str]:
    """Write the program (and a line printing its answer) to a file; the command that runs it."""
    path = os.path.join(directory, "program" + get_language(language).extension)
    if language == "prolog":
        with open(path, "w", encoding="utf-8") as f:
            f.write(code)
        return ["swipl", "-q", "-g", "once(solve(X)), print(X), nl", "-t", "halt", path]
    with open(path, "w", encoding="utf-8") as f:
        f.write(code + ("\n(format t \"~a~%\" (solve))\n" if language == "lisp" else "\n(print (solve))\n"))
    return ["sbcl", "--script", path] if language == "lisp" else [hy_command(), path]


def hy_command() -> str:
    """The `hy` console script of this Python (not a pyenv shim, whose own start-up is slow)."""
    beside = os.path.join(os.path.dirname(sys.executable), "hy")
    return beside if os.access(beside, os.X_OK) else (shutil.which("hy") or "hy")


def run_baseline_one(language: str, code: str, gold: str, timeout: float, directory: str) -> tuple[float, str]:
    """(seconds, outcome) of one program in a fresh process; outcome correct/wrong/error/timeout."""
    started = time.perf_counter()
    command = baseline_command(language, code, directory)
    try:
        proc = subprocess.run(command, capture_output=True, timeout=timeout, cwd=directory,
                              stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, "timeout"
    lines = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    if proc.returncode != 0 or not lines:
        return seconds, "error"
    return seconds, ("correct" if answers_match(lines[-1].strip(), gold) else "wrong")


@dataclass
class Baseline:
    language: str
    per_kind: dict[str, list[float]]   # seconds per program, by kind
    outcomes: Counter
    wall: float
    n: int

    def seconds_per_program(self, counts: dict[str, int]) -> float:
        """Expected seconds per program for a mix with these counts per kind."""
        total = sum(counts.values())
        means = {k: sum(v) / len(v) for k, v in self.per_kind.items() if v}
        fallback = means.get("correct", sum(means.values()) / max(1, len(means)))
        return sum(c * means.get(k, fallback) for k, c in counts.items()) / total

    def rate(self, counts: dict[str, int]) -> float:
        return 1.0 / self.seconds_per_program(counts)


def run_baseline(language: str, cases: Sequence[Case], timeout: float) -> Baseline:
    per_kind: dict[str, list[float]] = {}
    outcomes: Counter = Counter()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"baseline-{language}-") as directory:
        for case in cases:
            seconds, outcome = run_baseline_one(language, case.code, case.gold, timeout, directory)
            per_kind.setdefault(case.kind, []).append(seconds)
            outcomes[outcome] += 1
    return Baseline(language, per_kind, outcomes, time.perf_counter() - started, len(cases))


def stratified(cases: Sequence[Case], n: int) -> list[Case]:
    """About `n` cases keeping the kinds' proportions, at least one of every kind present."""
    by_kind: dict[str, list[Case]] = {}
    for case in cases:
        by_kind.setdefault(case.kind, []).append(case)
    share = {k: max(1, round(n * len(v) / len(cases))) for k, v in by_kind.items()}
    return [c for k, v in by_kind.items() for c in v[:share[k]]]


# -- processes and memory ----------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return found


def descendants(pids: Sequence[int]) -> list[int]:
    """`pids` and every process below them."""
    seen, stack = [], list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.append(pid)
        stack += _children(pid)
    return seen


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pool_pids(language: str) -> list[int]:
    pool = sandbox.running(get_language(language))
    return list(pool.pids()) if pool is not None else []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        return False


def workers_rss_mb(language: str) -> tuple[float, int]:
    """(MB, process count) of the language's pool workers and all their children."""
    procs = descendants(pool_pids(language))
    return sum(rss_kb(p) for p in procs) / 1024.0, len(procs)


# -- grading -----------------------------------------------------------------------------------

@dataclass
class Run:
    n: int
    workers: int
    seconds: float
    statuses: Counter
    correct: int
    as_expected: int
    pool_kills: int = 0     # programs the pool killed at the wall deadline (worker replaced)
    inner_kills: int = 0    # programs the worker killed itself (Lisp: SBCL restarted; Hy: the program's child)
    crashes: Counter = field(default_factory=Counter)  # error text of `crashed` grades
    kind_seconds: dict = field(default_factory=dict)    # kind -> per-program seconds in the pool

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds > 0 else float("inf")


def grade(language: str, cases: Sequence[Case], limits: Limits, workers: int) -> Run:
    grader = Grader("default", limits=limits, workers=workers, language=language)
    started = time.perf_counter()
    grades = grader.grade([c.completion for c in cases], [c.gold for c in cases], language,
                          [c.question for c in cases])
    seconds = time.perf_counter() - started
    ok = sum(expected(c.kind, g.status, g.correct) for c, g in zip(cases, grades))
    pool_kills = sum("wall-clock limit" in g.error for g in grades)
    inner_kills = sum(g.error.startswith("killed after") for g in grades) - pool_kills
    crashes = Counter(" ".join(g.error.split())[:200] for g in grades if g.status == "crashed")
    kind_seconds: dict[str, list[float]] = {}
    for c, g in zip(cases, grades):
        kind_seconds.setdefault(c.kind, []).append(g.seconds)
    return Run(len(cases), workers, seconds, Counter(g.status for g in grades),
               sum(g.correct for g in grades), ok, pool_kills, inner_kills, crashes, kind_seconds)


def loop_ceiling(run: Run, base: "Baseline", counts: dict[str, int]) -> float | None:
    """The highest ratio to the baseline the loops alone allow: the baseline's seconds per program
    over the loops' share of the Grader's time (their pool seconds spread over the workers), as if
    every other program cost nothing."""
    loops = run.kind_seconds.get("loop") or []
    if not loops:
        return None
    loop_time_per_program = sum(loops) / run.workers / run.n
    return base.seconds_per_program(counts) / loop_time_per_program


def crash_report(language: str, runs: Sequence[Run]) -> None:
    """Print why programs were graded `crashed` (none of the benchmark's programs should be)."""
    total: Counter = Counter()
    for run in runs:
        total.update(run.crashes)
    for error, count in total.most_common(3):
        emit(f"  {language}: {count} graded crashed: {error}")


def breakdown(language: str, cases: Sequence[Case], limits: Limits, workers: int) -> dict[str, float]:
    """Grade `cases` step by step as Grader.grade does (parse, run, score), timing each step; `busy`
    is the sum of the pool's per-program times (dispatch to reply) over the workers."""
    grader = Grader("default", limits=limits, workers=workers, language=language)
    t0 = time.perf_counter()
    items = [grader._prepare(c.completion, c.gold, language) for c in cases]
    t1 = time.perf_counter()
    grader._execute(items)
    t2 = time.perf_counter()
    for item in items:
        item.correct = item.execution.status.value == "ok" and answers_match(item.execution.answer, item.gold)
    grader._check_hardcoding(items, [c.question for c in cases])
    t3 = time.perf_counter()
    for item in items:
        grader._score(item)
    t4 = time.perf_counter()
    busy = sum(item.execution.seconds for item in items) / workers
    return {"parse": t1 - t0, "run": t2 - t1, "check": t3 - t2, "score": t4 - t3, "busy": busy, "total": t4 - t0}


def hardcoding_cost(language: str, cases: Sequence[Case], limits: Limits, workers: int) -> dict:
    """The same batch graded without and with the hard-coding check (lowres_rl.grading.hardcoding), warm
    pools, each twice, alternating; the faster of each pair counts."""
    seconds: dict[bool, float] = {}
    probes = correct = 0
    for check in (False, True, False, True):
        grader = Grader("default", limits=limits, workers=workers, language=language, check_hardcoding=check)
        started = time.perf_counter()
        grades = grader.grade([c.completion for c in cases], [c.gold for c in cases], language,
                              [c.question for c in cases])
        seconds[check] = min(seconds.get(check, float("inf")), time.perf_counter() - started)
        probes, correct = (grader.probes_run, sum(g.correct for g in grades)) if check else (probes, correct)
    return {"without": seconds[False], "with": seconds[True], "probes": probes, "correct": correct,
            "flagged": sum(g.hardcoded for g in grades), "n": len(cases)}


def warm(language: str, limits: Limits, workers: int, seed: int) -> float:
    """Make sure the language's pool has `workers` ready workers; seconds it took (0 if warm)."""
    cases = make_cases(language, workers * 2, {}, seed + 99)
    started = time.perf_counter()
    grade(language, cases, limits, workers)
    return time.perf_counter() - started


def cold_start(language: str, limits: Limits, workers: int, seed: int) -> float:
    """Seconds for a first batch (2 programs per worker) on a freshly started pool."""
    sandbox.close(get_language(language))
    return warm(language, limits, workers, seed)


# -- output ------------------------------------------------------------------------------------

def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(x) for x in header]] + [[str(x) for x in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = [f"\n== {title} ==", "  ".join(c.ljust(w) for c, w in zip(cells[0], widths)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells[1:]]
    return "\n".join(out)


def statuses_text(statuses: Counter) -> str:
    short = {"ok": "ok", "syntax_error": "syn", "runtime_error": "rt", "timeout": "to",
             "memory": "mem", "no_answer": "na", "crashed": "crash", "no_program": "none"}
    return " ".join(f"{short.get(k, k)}:{v}" for k, v in sorted(statuses.items()))


def mix_text(counts: dict[str, int]) -> str:
    return " ".join(f"{SHORT[k]}:{v}" for k, v in counts.items() if v)


def emit(text: str) -> None:
    print(text, flush=True)


# -- the benchmark -----------------------------------------------------------------------------

def parse_list(text: str, cast: Callable[[str], object]) -> list:
    return [cast(x.strip()) for x in text.split(",") if x.strip()]


def worker_counts(text: str) -> list[int]:
    counts = []
    for x in parse_list(text, str):
        n = CORES if x == "all" else int(x)
        if n not in counts:
            counts.append(n)
    return counts


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Grader throughput against one fresh interpreter process per program.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="tiny smoke version: small batches, baseline sample and memory run, 1 s limit")
    p.add_argument("--languages", default=",".join(LANGUAGES), help="comma-separated languages to measure")
    p.add_argument("--batch-sizes", default="64,512,4096", help="batch sizes swept at all cores")
    p.add_argument("--workers", default="1,2,all",
                   help="worker counts swept at --headline-batch ('all' = os.cpu_count(); duplicates dropped)")
    p.add_argument("--grid", choices=("star", "full"), default="star",
                   help="star: batch sizes at all cores plus worker counts at the headline batch; "
                        "full: every batch size with every worker count")
    p.add_argument("--headline-batch", type=int, default=512,
                   help="batch size of the speedup targets, the worker sweep and the loop/runaway runs")
    p.add_argument("--timeout", type=float, default=Limits.timeout,
                   help="seconds per program, for the Grader (Limits.timeout, the library's default) and the "
                        "baseline subprocess")
    p.add_argument("--wrong-percent", type=float, default=15.0, help="wrong answers (a number perturbed)")
    p.add_argument("--syntax-percent", type=float, default=5.0, help="syntax errors")
    p.add_argument("--runtime-percent", type=float, default=5.0, help="runtime errors (undefined helper)")
    p.add_argument("--loops-percent", type=float, default=1.0,
                   help="infinite loops in the realistic mix (stopped by the interpreters' own limits)")
    p.add_argument("--runaway-percent", type=float, default=5.0,
                   help="runaway programs in the runaway run (headline batch)")
    p.add_argument("--runaway-kind", choices=("loop", "stubborn", "both"), default="both",
                   help="loop: runaways the interpreter's own limit stops; stubborn: runaways that "
                        "catch or ignore that limit, so the pool kills (and respawns) the worker")
    p.add_argument("--stubborn-percent", type=float, default=1.0,
                   help="stubborn runaways in the stubborn runaway run (a pool kill and respawn each)")
    p.add_argument("--baseline-sample", type=int, default=64,
                   help="programs run one fresh process each for the baseline (stratified by kind)")
    p.add_argument("--memory-programs", type=int, default=20_000,
                   help="programs graded in the memory run (0 skips it)")
    p.add_argument("--memory-early", type=int, default=1_000,
                   help="programs after which the first memory reading is taken")
    p.add_argument("--memory-chunk", type=int, default=4_000,
                   help="batch size of the memory run after its first batch (of --memory-early programs)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic problems and mutations")
    p.add_argument("--ranks", default="1,2,4",
                   help="grader processes run at once, as training ranks on one node ('' skips the section)")
    return p


QUICK = dict(batch_sizes="16,64", workers="all", headline_batch=64, timeout=1.0, baseline_sample=8,
             memory_programs=400, memory_early=100, memory_chunk=100, stubborn_percent=2.0, ranks="")


def main(argv: Sequence[str] | None = None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick:  # quick sizes for every flag left at its default
        for key, value in QUICK.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
    limits = Limits(timeout=args.timeout)
    batch_sizes = parse_list(args.batch_sizes, int)
    counts_w = worker_counts(args.workers)
    all_w = CORES
    head = args.headline_batch
    mix = {"wrong": args.wrong_percent, "syntax": args.syntax_percent, "runtime": args.runtime_percent,
           "loop": args.loops_percent}
    no_loops = {**mix, "loop": 0.0}

    import lowres_rl.sandbox.isolation as isolation

    emit(f"grader throughput benchmark: {CORES} cores, timeout {args.timeout:g} s, isolation {isolation.level()}, "
         f"load average at start {open('/proc/loadavg').read().split()[0]}")
    emit(f"mix: correct = rest, wrong {args.wrong_percent:g}%, syntax {args.syntax_percent:g}%, "
         f"runtime {args.runtime_percent:g}%, loops {args.loops_percent:g}%")

    results: dict = {}
    languages = parse_list(args.languages, str)
    for language in languages:
        lang = get_language(language)
        missing = lang.missing() + ([] if language != "hy" or shutil.which(hy_command()) else ["no `hy` command"])
        if missing:
            emit(f"\n{language}: skipped ({'; '.join(missing)})")
            continue
        emit(f"\n######## {language} ########")
        results[language] = measure_language(language, args, limits, batch_sizes, counts_w, all_w, head,
                                             mix, no_loops)
        sandbox.close(lang)
        if args.ranks.strip():
            results[language]["ranks"] = measure_ranks(language, args, limits, no_loops)

    emit(summary(results, args))
    emit(f"\nload average at end {open('/proc/loadavg').read().split()[0]}")
    return results


def measure_language(language: str, args: argparse.Namespace, limits: Limits, batch_sizes: list[int],
                     counts_w: list[int], all_w: int, head: int, mix: dict, no_loops: dict) -> dict:
    res: dict = {}
    t0 = time.perf_counter()

    # Baseline, on a stratified sample of a big realistic batch (so every kind is present).
    pool_cases = make_cases(language, max(1000, args.baseline_sample * 10), mix, args.seed + 7)
    sample = stratified(pool_cases, args.baseline_sample)
    base = run_baseline(language, sample, args.timeout)
    res["baseline"] = base
    rows = [[k, len(v), f"{1000 * sum(v) / len(v):.1f}"] for k, v in base.per_kind.items()]
    emit(table(f"{language}: baseline, one fresh process per program ({base.n} programs, {base.wall:.1f} s; "
               f"outcomes {dict(base.outcomes)})", ["kind", "programs", "ms/program"], rows))

    # Cold start of the pool (spawn + import + interpreter start), then the sweep on warm pools.
    res["cold"] = {w: cold_start(language, limits, w, args.seed) for w in counts_w}
    configs = ([(n, w) for n in batch_sizes for w in counts_w] if args.grid == "full"
               else [(n, all_w) for n in batch_sizes] + [(head, w) for w in counts_w if w != all_w])
    configs = sorted(set(configs), key=lambda c: (c[0], c[1]))
    rows, sweep, ceilings = [], {}, {}
    for n, w in configs:
        cases = make_cases(language, n, mix, args.seed)
        counts = Counter(c.kind for c in cases)
        warm(language, limits, w, args.seed)
        before = set(pool_pids(language))
        run = grade(language, cases, limits, w)
        started = len(set(pool_pids(language)) - before)
        base_rate = base.rate(counts)
        sweep[(n, w)] = (run, base_rate)
        ceilings[(n, w)] = loop_ceiling(run, base, counts)
        rows.append([n, w, mix_text(counts), f"{run.seconds:.2f}", f"{run.rate:.0f}", f"{base_rate:.1f}",
                     f"{run.rate / base_rate:.1f}x", started, statuses_text(run.statuses), f"{run.as_expected}/{n}"])
    res["sweep"] = sweep
    res["ceiling"] = ceilings
    crash_report(language, [run for run, _ in sweep.values()])
    emit(table(f"{language}: Grader on the realistic mix (warm pools; baseline = fresh process per program)",
               ["batch", "workers", "mix", "seconds", "prog/s", "baseline prog/s", "ratio", "new workers",
                "statuses", "as expected"], rows))
    emit("new workers: pool workers present after the batch that were not there before it (warm) - "
         "0 when workers persist across batches, except for recycling and kills")
    loop_means = [sum(r.kind_seconds["loop"]) / len(r.kind_seconds["loop"]) for r, _ in sweep.values()
                  if r.kind_seconds.get("loop")]
    if loop_means and ceilings.get((head, all_w)):
        emit(f"loops: {sum(loop_means) / len(loop_means):.2f} s each in the pool (mean over the rows), "
             f"{base.seconds_per_program({'loop': 1}):.2f} s in the baseline; with their share of the mix they alone "
             f"cap the ratio at {ceilings[(head, all_w)]:.1f}x for batch {head} on {all_w} workers "
             f"(if every other program cost nothing)")
    emit("cold start (fresh pool, first batch of 2 programs per worker): "
         + ", ".join(f"{w} workers {s:.2f} s" for w, s in res["cold"].items()))

    # The headline batch without loops, and with runaways.
    warm(language, limits, all_w, args.seed)
    clean_cases = make_cases(language, head, no_loops, args.seed)
    clean = grade(language, clean_cases, limits, all_w)
    clean_base = base.rate(Counter(c.kind for c in clean_cases))
    res["no_loops"] = (clean, clean_base)
    warm(language, limits, all_w, args.seed)
    parts = breakdown(language, clean_cases, limits, all_w)
    res["breakdown"] = parts
    rows = [["no loops", 0, f"{clean.seconds:.2f}", "-", "-", "-", f"{clean.rate:.0f}", "-",
             statuses_text(clean.statuses)]]
    res["runaway"] = {}
    kinds = ["loop", "stubborn"] if args.runaway_kind == "both" else [args.runaway_kind]
    for kind in kinds:
        pct = args.runaway_percent if kind == "loop" else args.stubborn_percent
        cases = make_cases(language, head, {**no_loops, kind: pct}, args.seed)
        runaways = sum(c.kind == kind for c in cases)
        warm(language, limits, all_w, args.seed)
        run = grade(language, cases, limits, all_w)
        kills = f"pool {run.pool_kills}, in worker {run.inner_kills}"
        bound = runaways / all_w * args.timeout
        extra = run.seconds - clean.seconds
        res["runaway"][kind] = (run, runaways, bound, extra)
        rows.append([f"{pct:g}% {kind}", runaways, f"{run.seconds:.2f}", f"{extra:+.2f}", f"{bound:.2f}",
                     f"{extra / bound:.2f}" if bound else "-", f"{run.rate:.0f}", kills, statuses_text(run.statuses)])
    crash_report(language, [clean] + [r[0] for r in res["runaway"].values()])
    emit(table(f"{language}: headline batch {head} at {all_w} workers, loop-free and with runaways "
               f"(bound = runaways / workers x {args.timeout:g} s, against the extra time over the loop-free batch)",
               ["batch", "runaways", "seconds", "extra s", "bound s", "extra/bound", "prog/s", "kills", "statuses"],
               rows))

    emit(f"where the time goes ({head} loop-free, {all_w} workers, graded again step by step: "
         f"{parts['total']:.2f} s): parse completions {parts['parse']:.2f} s, run programs {parts['run']:.2f} s "
         f"(workers busy {parts['busy']:.2f} s each = {100 * parts['busy'] / parts['run']:.0f}% of it; the rest is "
         f"worker start-up and dispatch), hard-coding check {parts['check']:.2f} s, score {parts['score']:.2f} s; "
         f"per program: parent "
         f"{1000 * (parts['parse'] + parts['score']) / head:.2f} ms, worker {1000 * parts['busy'] * all_w / head:.2f} ms")

    # The hard-coding check: the loop-free headline batch with and without it.
    warm(language, limits, all_w, args.seed)
    cost = res["hardcoding"] = hardcoding_cost(language, clean_cases, limits, all_w)
    emit(f"hard-coding check ({head} loop-free, {cost['correct']} correct, so {cost['probes']} changed programs "
         f"run, {cost['flagged']} flagged): without {cost['without']:.2f} s, with {cost['with']:.2f} s; "
         f"with/without = {cost['with'] / cost['without']:.2f}x")

    # Memory: a long loop-free run at all cores; RSS of the workers and their children.
    if args.memory_programs > 0:
        res["memory"] = memory_run(language, args, limits, all_w, no_loops)
    emit(f"({language} measured in {time.perf_counter() - t0:.0f} s)")
    return res


def worker_samples(language: str) -> list[tuple[int, int, float]]:
    """(pid, programs served, MB of it and its children) for each live worker of the language's pool."""
    pool = sandbox.running(get_language(language))
    workers = list(getattr(pool, "_workers", None) or []) if pool is not None else []
    samples = []
    for worker in workers:
        procs = descendants([worker.proc.pid])
        if all(_alive(p) for p in procs) and len(procs) > 0:
            samples.append((worker.proc.pid, getattr(worker, "served", 0),
                            sum(rss_kb(p) for p in procs) / 1024.0))
    return samples


def _total(reading: list[tuple[int, int, float]]) -> float:
    return sum(mb for _, _, mb in reading)


class Sampler(threading.Thread):
    """Reads the pool workers' memory every `period` seconds while a batch runs (workers spawned
    by the Grader's batch thread may not outlive the batch, so readings between batches can miss
    them): keeps the highest reading in which all `workers` were alive (so a worker just replaced by
    recycling at the end of a batch does not make a low reading), and every per-worker sample."""

    def __init__(self, language: str, workers: int, period: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.language, self.workers, self.period = language, workers, period
        self.full: list[tuple[int, int, float]] | None = None   # the highest total of all workers
        self.samples: list[list[tuple[int, int, float]]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.period):
            self.take()

    def take(self) -> None:
        try:
            reading = worker_samples(self.language)
        except Exception:  # noqa: BLE001 - the pool's list changed under us: skip this reading
            return
        self.samples.append(reading)
        if len(reading) >= self.workers and (self.full is None or _total(reading) >= _total(self.full)):
            self.full = reading

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.take()


def growth_per_1000(samples: list[list[tuple[int, int, float]]]) -> float | None:
    """Median RSS growth (MB per 1000 programs served) of a worker over its own lifetime."""
    first: dict[int, tuple[int, float]] = {}
    last: dict[int, tuple[int, float]] = {}
    for reading in samples:
        for pid, served, mb in reading:
            if served < WARMED_UP:  # a young worker is still loading its interpreter and libraries
                continue
            first.setdefault(pid, (served, mb))
            last[pid] = (served, mb)
    slopes = sorted(1000 * (last[p][1] - first[p][1]) / (last[p][0] - first[p][0])
                    for p in first if last[p][0] - first[p][0] >= 300)
    return slopes[len(slopes) // 2] if slopes else None


def memory_run(language: str, args: argparse.Namespace, limits: Limits, workers: int, no_loops: dict) -> dict:
    """Run a long loop-free series of programs through the language's pool (the one the Grader
    uses, driven here from this main thread so that its workers live as long as the pool means them
    to); the workers' RSS as read during each batch: the first batch is --memory-early programs,
    the rest --memory-chunk each."""
    lang = get_language(language)
    sandbox.close(lang)  # fresh workers: memory counted from their start
    done, batch, seconds, crashed, respawned = 0, 0, 0.0, 0, 0
    crashes: list[Run] = []
    seen: set[int] = set()
    curve: list[tuple[int, float]] = []
    samples: list[list[tuple[int, int, float]]] = []
    marks = sorted({args.memory_early, args.memory_programs})
    readings: dict[int, tuple[float, int]] = {}
    while done < args.memory_programs:
        n = min(args.memory_early if batch == 0 and args.memory_early > 0 else args.memory_chunk,
                args.memory_programs - done)
        cases = make_cases(language, n, no_loops, args.seed + 1000 + batch)
        programs = [Program(c.code) for c in cases]
        before = set(pool_pids(language))
        sampler = Sampler(language, workers)
        sampler.start()
        started = time.perf_counter()
        executions = sandbox.run(lang, programs, limits, workers)
        seconds += time.perf_counter() - started
        sampler.stop()
        respawned += len(set(pool_pids(language)) - before) if batch else 0
        statuses = Counter(e.status.value for e in executions)
        crashed += statuses.get("crashed", 0)
        crashes.append(Run(n, workers, 0.0, statuses, 0, 0, crashes=Counter(
            " ".join(e.error.split())[:200] for e in executions if e.status.value == "crashed")))
        done += n
        batch += 1
        samples += sampler.samples
        seen.update(pid for reading in sampler.samples for pid, _, _ in reading)
        full = sampler.full or []
        mb = sum(m for _, _, m in full)
        curve.append((done, mb))
        for mark in marks:
            if done >= mark and mark not in readings:
                readings[mark] = (mb, len(full))
    crash_report(language, crashes)
    early, late = readings[marks[0]][0], readings[marks[-1]][0]
    growth = (late - early) / early if early else 0.0
    peak = max(mb for _, mb in curve)
    slope = growth_per_1000(samples)
    projected = (slope * (marks[-1] - marks[0]) / 1000 / early) if slope is not None and early else None
    step = max(1, len(curve) // 10)
    shown = curve[::step] + ([curve[-1]] if (len(curve) - 1) % step else [])
    rows = [[marks[0], f"{early:.1f}", readings[marks[0]][1]], [marks[-1], f"{late:.1f}", readings[marks[-1]][1]]]
    emit(table(f"{language}: worker memory (VmRSS of each worker and its children, highest reading during the batch); "
               f"loop-free programs through get_language({language!r}).run in batches of {args.memory_early} then "
               f"{args.memory_chunk}: {done} programs in {seconds:.1f} s = {done / seconds:.0f} prog/s (pool alone, "
               f"no parsing or scoring), {crashed} crashed", ["after programs", "RSS MB", "workers"], rows))
    emit(f"change {growth * 100:+.1f}%, peak {peak:.1f} MB; {len(seen)} distinct workers seen over the run, "
         f"{respawned} started by later batches (the pool recycles a worker after "
         f"lowres_rl.sandbox.pool.RECYCLE_AFTER programs; more means workers do not outlive a batch); "
         f"grader process {rss_kb(os.getpid()) / 1024:.0f} MB")
    if slope is not None:
        emit(f"growth of one worker over its own life: {slope:+.2f} MB per 1000 programs; without recycling the "
             f"{marks[-1]}-program reading would be about {projected * 100:+.0f}% of the {marks[0]}-program one")
    emit("RSS MB by programs done: " + ", ".join(f"{d}:{mb:.0f}" for d, mb in shown))
    return {"early": early, "late": late, "growth": growth, "peak": peak, "rate": done / seconds,
            "marks": marks, "workers_seen": len(seen), "respawned": respawned, "slope": slope,
            "projected": projected, "crashed": crashed}


# -- N graders at once, as N training ranks on one machine -------------------------------------

# A rank in a child process: builds its cases, warms its pools (default size: its share of the
# CPUs, lowres_rl.sandbox.cpus), says "ready", waits for "go" on stdin, grades, prints its seconds.
_RANK_CHILD = """
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
bench = sys.modules["bench"] = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)
a = json.loads(sys.argv[2])
limits = bench.Limits(timeout=a["timeout"])
cases = bench.make_cases(a["language"], a["n"], a["mix"], a["seed"])
grader = bench.Grader("default", limits=limits, workers=a["workers"], language=a["language"])
grader.grade([c.completion for c in cases[:8]], [c.gold for c in cases[:8]], a["language"])
pool = bench.sandbox.running(bench.get_language(a["language"]))
print("ready", pool.size, flush=True)
sys.stdin.readline()
started = time.perf_counter()
grades = grader.grade([c.completion for c in cases], [c.gold for c in cases], a["language"],
                      [c.question for c in cases])
print(json.dumps({"seconds": time.perf_counter() - started, "workers": pool.size,
                  "crashed": sum(g.status == "crashed" for g in grades)}), flush=True)
"""


def run_ranks(language: str, ranks: int, n: int, mix: dict, limits: Limits, seed: int,
              workers: int | None) -> dict:
    """`ranks` graders in their own processes (LOCAL_WORLD_SIZE=ranks, as torchrun sets it), each
    grading `n` programs from one shared start; per-rank seconds and the wall time of them all."""
    env = {**os.environ, "LOCAL_WORLD_SIZE": str(ranks)}
    children = []
    for rank in range(ranks):
        spec = {"language": language, "n": n, "mix": mix, "seed": seed + rank, "timeout": limits.timeout,
                "workers": workers}
        children.append(subprocess.Popen([sys.executable, "-c", _RANK_CHILD, os.path.abspath(__file__),
                                          json.dumps(spec)], env={**env, "RANK": str(rank)},
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    sizes = [int(_rank_line(child).split()[1]) for child in children]  # every rank warm
    started = time.perf_counter()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    done = [json.loads(_rank_line(child)) for child in children]
    wall = time.perf_counter() - started
    for child in children:
        child.wait(timeout=60)
    return {"ranks": ranks, "workers": sizes[0], "n": n, "wall": wall,
            "seconds": [d["seconds"] for d in done], "crashed": sum(d["crashed"] for d in done)}


def _rank_line(child: subprocess.Popen) -> str:
    line = child.stdout.readline()  # type: ignore[union-attr]
    if not line:
        raise RuntimeError(f"a grader rank exited early (status {child.wait()}); its stderr is above")
    return line


def measure_ranks(language: str, args: argparse.Namespace, limits: Limits, mix: dict) -> list[dict]:
    """N graders at once on this machine against one: pools at each rank's share of the CPUs (the
    default), and for N > 1 also every rank at one worker per core (os.cpu_count(), the old
    default that oversubscribes the node)."""
    n, rows, runs = args.headline_batch, [], []
    for ranks in parse_list(args.ranks, int):
        for workers in ([None] if ranks == 1 else [None, CORES]):
            run = run_ranks(language, ranks, n, mix, limits, args.seed, workers)
            run["policy"] = "share" if workers is None else "all cores each"
            runs.append(run)
    one = next((r for r in runs if r["ranks"] == 1), None)
    for run in runs:
        total = run["ranks"] * run["n"] / run["wall"]
        per_rank = sum(run["n"] / s for s in run["seconds"]) / run["ranks"]
        run.update(total_rate=total, per_rank_rate=per_rank)
        rows.append([run["ranks"], run["policy"], run["workers"], run["n"], f"{max(run['seconds']):.2f}",
                     f"{per_rank:.0f}", f"{total:.0f}",
                     f"{total / one['total_rate']:.2f}x" if one else "-", run["crashed"]])
    emit(table(f"{language}: N graders at once, as N training ranks on one machine ({CORES} cores; each rank "
               f"grades {n} loop-free programs from a shared start; vs one grader on the whole machine)",
               ["ranks", "pools", "workers/rank", "programs/rank", "slowest rank s", "prog/s per rank",
                "prog/s total", "total vs one", "crashed"], rows))
    return runs


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def summary(results: dict, args: argparse.Namespace) -> str:
    rows = []
    head = args.headline_batch
    for language, res in results.items():
        run, base_rate = res["sweep"].get((head, CORES), (None, None))
        target = TARGET_SPEEDUP[language]
        if run is not None:
            ratio = run.rate / base_rate
            cap = res.get("ceiling", {}).get((head, CORES))
            rows.append([language, f"speedup, realistic mix, batch {head}, {CORES} workers", f">= {target:g}x",
                         f"{ratio:.1f}x ({run.rate:.0f} vs {base_rate:.1f} prog/s"
                         + (f"; loops cap it at {cap:.1f}x)" if cap else ")"), verdict(ratio >= target)])
        clean, clean_base = res["no_loops"]
        ratio = clean.rate / clean_base
        rows.append([language, f"speedup, no loops, batch {head}, {CORES} workers", f">= {target:g}x",
                     f"{ratio:.1f}x ({clean.rate:.0f} vs {clean_base:.1f} prog/s)", verdict(ratio >= target)])
        if language in TARGET_NO_LOOP_SECONDS:
            limit = TARGET_NO_LOOP_SECONDS[language]
            rows.append([language, f"{head} completions, no loops", f"< {limit:g} s", f"{clean.seconds:.2f} s",
                         verdict(clean.seconds < limit) + ("" if head == 512 else " (not 512)")])
        for kind, (run, runaways, bound, extra) in res["runaway"].items():
            # stubborn runaways are killed at limit + grace and their worker replaced: shown, not judged
            ok = extra <= bound * RUNAWAY_TOLERANCE
            rows.append([language, f"extra batch time from {runaways} {kind} runaways",
                         f"<= {runaways}/{CORES} x {args.timeout:g} s = {bound:.2f} s",
                         f"{extra:.2f} s ({extra / bound:.2f} of bound)" if bound else f"{extra:.2f} s",
                         verdict(ok) if kind == "loop" else "info " + verdict(ok)])
        if "hardcoding" in res:
            cost = res["hardcoding"]
            rows.append([language, f"hard-coding check, batch {head}, no loops", "info",
                         f"{cost['with'] / cost['without']:.2f}x time ({cost['with']:.2f} vs {cost['without']:.2f} s; "
                         f"{cost['probes']} re-runs for {cost['correct']} correct)", "info"])
        if "memory" in res:
            m = res["memory"]
            rows.append([language, f"worker RSS after {m['marks'][-1]} vs after {m['marks'][0]}",
                         f"growth <= {TARGET_MEMORY_GROWTH * 100:g}%",
                         f"{m['late']:.0f} vs {m['early']:.0f} MB ({m['growth'] * 100:+.1f}%)",
                         verdict(m["growth"] <= TARGET_MEMORY_GROWTH)])
            if m["projected"] is not None:
                rows.append([language, "  same, projected without worker recycling", f"growth <= {TARGET_MEMORY_GROWTH * 100:g}%",
                             f"{m['projected'] * 100:+.0f}% ({m['slope']:+.2f} MB per 1000 per worker)",
                             "info " + verdict(m["projected"] <= TARGET_MEMORY_GROWTH)])
    return table("SUMMARY", ["language", "measure", "target", "measured", "verdict"], rows)


if __name__ == "__main__":
    main()
