"""Run from the repository root (SBCL installed, lowres-rl installed):

    python benchmarks/lisp_process_model.py             # 200 programs, best of 3 (about 10 s)
    python benchmarks/lisp_process_model.py --quick     # 20 programs, a smoke version
    python benchmarks/lisp_process_model.py --help      # every flag

Lisp process model: a fresh `sbcl --script` per program against lowres_rl's persistent SBCL
workers, on the same programs.

The programs are the Common Lisp reference solutions of synthetic problems (lowres_rl.offline.synthetic),
each with its default query `(solve)`. Two ways of running them:

  - process per program: write the program plus `(format t "~a~%" (solve))` to a temporary file
    and run `sbcl --script FILE` with a subprocess timeout, one program after another (and, for
    the same parallelism as the pool, with --workers programs at a time from a thread pool);
  - persistent workers: `sandbox.run(get_language("lisp"), programs, Limits(timeout=...), workers=N)`,
    the sandbox pool of lowres_rl.sandbox.pool whose workers each keep one SBCL running
    interpreters/lisp/harness.lisp (a warm pool: started before the clock starts, as in training).

It prints programs/second for each, the ratios (persistent over process-per-program, at 1 worker and
at --workers), how many answers were right in each (the same work was done), and the cold start of
the pool (what each worker restart costs).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from lowres_rl.grading.answers import answers_match
from lowres_rl.languages import Limits, Program, get_language
from lowres_rl.offline.synthetic import generate
from lowres_rl import sandbox


def script_one(code: str, gold: str, timeout: float, directory: str, index: int) -> bool:
    """Run one program with a fresh `sbcl --script`; whether it printed the gold answer."""
    path = os.path.join(directory, f"program-{index}.lisp")
    with open(path, "w", encoding="utf-8") as f:
        f.write(code + '\n(format t "~a~%" (solve))\n')
    try:
        proc = subprocess.run(["sbcl", "--script", path], capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd=directory)
    except subprocess.TimeoutExpired:
        return False
    finally:
        os.unlink(path)
    lines = proc.stdout.decode("utf-8", "replace").split()
    return proc.returncode == 0 and bool(lines) and answers_match(lines[-1], gold)


def process_per_program(codes: Sequence[str], golds: Sequence[str], timeout: float,
                        parallel: int) -> tuple[float, int]:
    """(seconds, correct answers) running every program in its own `sbcl --script`."""
    with tempfile.TemporaryDirectory(prefix="lisp-process-model-") as directory:
        started = time.perf_counter()
        if parallel <= 1:
            right = [script_one(c, g, timeout, directory, i) for i, (c, g) in enumerate(zip(codes, golds))]
        else:
            with ThreadPoolExecutor(parallel) as threads:
                right = list(threads.map(lambda a: script_one(a[1][0], a[1][1], timeout, directory, a[0]),
                                         enumerate(zip(codes, golds))))
        return time.perf_counter() - started, sum(right)


def persistent(codes: Sequence[str], golds: Sequence[str], limits: Limits, workers: int,
               repeat: int) -> tuple[float, int, float]:
    """(best seconds of `repeat` runs, correct answers, cold-start seconds) through the project's
    persistent Lisp workers (one pool, started before the clock, kept across the runs)."""
    lisp = get_language("lisp")
    sandbox.close(lisp)
    started = time.perf_counter()
    sandbox.run(lisp, [Program("(defun solve () 1)")] * (2 * workers), limits, workers)  # start the pool
    cold = time.perf_counter() - started
    best, right = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        executions = sandbox.run(lisp, [Program(c) for c in codes], limits, workers)
        best = min(best, time.perf_counter() - started)
        right = sum(e.status.value == "ok" and answers_match(e.answer or "", g) for e, g in zip(executions, golds))
    return best, right, cold


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(x) for x in header]] + [[str(x) for x in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="sbcl --script per program against persistent SBCL workers.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--programs", type=int, default=200, help="how many programs (synthetic Lisp solutions)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="parallel workers for the second comparison (the first is always 1 against 1)")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds per program (subprocess timeout, Limits.timeout)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic problems")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs of each measurement; the fastest is reported (less noise from other load)")
    p.add_argument("--quick", action="store_true", help="smoke version: 20 programs")
    return p


def main(argv: Sequence[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    n = 20 if args.quick and args.programs == 200 else args.programs
    args.repeat = 1 if args.quick and args.repeat == 3 else max(1, args.repeat)
    lisp = get_language("lisp")
    if lisp.missing():
        print(f"lisp: skipped ({'; '.join(lisp.missing())})")
        return {}
    problems = generate(n, seed=args.seed)
    codes = [p.solutions["lisp"] for p in problems]
    golds = [p.answer for p in problems]
    limits = Limits(timeout=args.timeout)
    import lowres_rl.sandbox.isolation as isolation

    print(f"lisp process model: {n} programs, timeout {args.timeout:g} s, {os.cpu_count()} cores, best of "
          f"{args.repeat}, isolation {isolation.level()}, load average {open('/proc/loadavg').read().split()[0]}",
          flush=True)

    rows, rates = [], {}
    parallel = [1] + ([args.workers] if args.workers > 1 else [])
    for w in parallel:
        seconds, right = min(process_per_program(codes, golds, args.timeout, w) for _ in range(args.repeat))
        rates[("process", w)] = n / seconds
        rows.append(["process per program (sbcl --script)", w, f"{seconds:.2f}", f"{n / seconds:.1f}", f"{right}/{n}", "-"])
    for w in parallel:
        seconds, right, cold = persistent(codes, golds, limits, w, args.repeat)
        rates[("persistent", w)] = n / seconds
        rows.append(["persistent workers (lowres_rl pool)", w, f"{seconds:.2f}", f"{n / seconds:.1f}", f"{right}/{n}",
                     f"{cold:.2f}"])
    sandbox.close(lisp)
    print(table(["model", "parallel", "seconds", "prog/s", "correct", "pool cold start s"], rows))
    ratios = {w: rates[("persistent", w)] / rates[("process", w)] for w in parallel}
    for w, ratio in ratios.items():
        print(f"ratio persistent / process-per-program at {w} parallel: {ratio:.1f}x")
    print(f"load average at end {open('/proc/loadavg').read().split()[0]}")
    return {"rates": rates, "ratios": ratios}


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
