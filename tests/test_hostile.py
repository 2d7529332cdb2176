"""Hostile programs against the sandbox: real workers, real interpreters, the machine's isolation.

For each language (prolog, lisp, hy) a batch of hostile programs runs in a fresh pool started after
a secret was put in this process's environment. For every program: this process survives, the
result arrives within the limit plus one second, no file appears at the host paths it tries to
write (a unique name in this process's HOME and in the temporary directory), no connection arrives
on a port this process listens on, the secret appears nowhere in the reply, and ordinary programs
still answer 42 afterwards. After pool.close() no process the pool started (workers, SBCL,
fork-bomb children, daemons) is left. A fault-injection test SIGKILLs random workers during large
batches and still gets one correct-or-crashed result per program.

The checks that need OS isolation are skipped where the machine has none (level `none`): there, a
fork bomb or `kill -9 -1` would hit this machine for real. Filesystem checks need level `bwrap`.
"""
from __future__ import annotations

import os
import random
import select
import signal
import socket
import threading
import time

import pytest
from hostile_programs import HOSTILE, LANGUAGES, ORDINARY, SECRET, SECRET_NAME, all_targets, render, targets

import lowres_rl.sandbox.isolation as isolation
from lowres_rl.languages import Execution, Limits, Status, get_language
from lowres_rl.sandbox.pool import Pool

LIMITS = Limits(timeout=1.0)
SLACK = 1.0  # seconds past the limit a result may take

LEVEL = isolation.level()
NAMESPACES = LEVEL.startswith(("bwrap", "namespaces"))
FILESYSTEM = LEVEL.startswith("bwrap")

pytestmark = pytest.mark.skipif(
    not NAMESPACES and os.environ.get("LOWRES_RL_REQUIRE_ISOLATION") != "1",
    reason=f"no OS isolation here (level {LEVEL}): hostile programs would hit this machine")

# Statuses a kind must end with (kinds not listed: anything, as long as the invariants hold).
NOT_OK = frozenset(Status) - {Status.OK}
EXPECTED = {
    "sleep": {Status.TIMEOUT},
    "catch_all": {Status.TIMEOUT},
    "ignore_signals": {Status.TIMEOUT},
    "memory_bomb": {Status.MEMORY, Status.CRASHED, Status.TIMEOUT},
    "deep_recursion": {Status.MEMORY, Status.CRASHED, Status.RUNTIME_ERROR, Status.TIMEOUT},
    "exit": {Status.CRASHED, Status.RUNTIME_ERROR},
    "exit_direct": {Status.RUNTIME_ERROR},
    "shell_direct": {Status.RUNTIME_ERROR},
    "read_eval": {Status.RUNTIME_ERROR, Status.SYNTAX_ERROR},
    "network": NOT_OK,
}
if FILESYSTEM:  # the host's filesystem is read-only inside the sandbox
    EXPECTED["write_home"] = NOT_OK
# Where interpreters/prolog/guard.pl refuses a program before it runs: runtime_error instead;
# without the guard, SWI's system:halt/1 inside pyswip sometimes hangs until the pool kills it.
# Open question: since Hy forks a child per program, `ignore_signals` in this mixed batch on two
# workers sometimes ends `crashed` (its worker SIGKILLed, code 137) although alone, and after each
# other hostile program on one worker, it is a clean `timeout`. The invariants still hold.
EXPECTED_HY = {"ignore_signals": {Status.TIMEOUT, Status.CRASHED}}
EXPECTED_PROLOG = {"ignore_signals": {Status.TIMEOUT, Status.RUNTIME_ERROR},
                   "exit": {Status.CRASHED, Status.RUNTIME_ERROR, Status.TIMEOUT}}


def test_at_least_15_hostile_programs_per_language() -> None:
    for lang in LANGUAGES:
        assert len(HOSTILE[lang]) >= 15, lang
    required = {"fork_bomb", "write_home", "write_tmp", "read_secret", "network", "kill_parent",
                "ignore_signals", "print_100mb", "sleep", "deep_recursion", "memory_bomb", "exit",
                "catch_all", "threads", "shell"}
    for lang in LANGUAGES:
        assert required <= set(HOSTILE[lang]), (lang, required - set(HOSTILE[lang]))


# -- fixtures and helpers ------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def remove_targets():
    """Where the filesystem is not protected (level `namespaces`), hostile writes do land: clean up."""
    yield
    for path in all_targets():
        path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def secret_env():
    """The secret is in this process's environment before any pool of this module starts."""
    old = os.environ.get(SECRET_NAME)
    os.environ[SECRET_NAME] = SECRET
    yield SECRET
    if old is None:
        os.environ.pop(SECRET_NAME, None)
    else:
        os.environ[SECRET_NAME] = old


@pytest.fixture(scope="module")
def listener():
    """A TCP port on 127.0.0.1 that no sandboxed program may reach."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def assert_no_connection(sock: socket.socket, wait: float = 0.3) -> None:
    readable, _, _ = select.select([sock], [], [], wait)
    if readable:
        conn, peer = sock.accept()
        conn.close()
        pytest.fail(f"a sandboxed program connected to the test's port from {peer}")


def process_table() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, state, start time) for every process in /proc."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), fields[0], int(fields[19]))
    return table


def descendants(root: int, table: dict[int, tuple[int, str, int]] | None = None) -> set[tuple[int, int]]:
    """(pid, start time) of every live (non-zombie) process below `root`."""
    table = table if table is not None else process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if table[child][1] != "Z":
                found.add((child, table[child][2]))
            stack.append(child)
    return found


class Watcher:
    """Samples this process's descendants in the background: everything the pool starts."""

    def __init__(self, interval: float = 0.05) -> None:
        self.baseline = descendants(os.getpid())
        self.seen: set[tuple[int, int]] = set()
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.seen |= descendants(os.getpid()) - self.baseline

    def stop(self) -> set[tuple[int, int]]:
        self._stop.set()
        self._thread.join()
        self.seen |= descendants(os.getpid()) - self.baseline
        return self.seen


def assert_all_gone(seen: set[tuple[int, int]], baseline: set[tuple[int, int]], timeout: float = 5.0) -> None:
    """None of `seen` is alive (same pid and start time, not a zombie), and nothing new is below us."""
    deadline = time.monotonic() + timeout
    while True:
        table = process_table()
        alive = {(pid, start) for pid, start in seen
                 if pid in table and table[pid][2] == start and table[pid][1] != "Z"}
        extra = descendants(os.getpid(), table) - baseline
        if not alive and not extra or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not alive, f"processes left after close: {sorted(alive)}"
    assert not extra, f"processes below the test process after close: {sorted(extra)}"


def assert_ordinary(pool: Pool, lang: str, n: int = 4) -> None:
    results = pool.run([ORDINARY[lang]] * n, LIMITS)
    assert [(r.status, r.answer) for r in results] == [(Status.OK, "42")] * n, results


def leaks(result: Execution) -> bool:
    return any(SECRET in (text or "") for text in
               (result.answer, result.stdout, result.stderr, result.error, *result.warnings))


# -- the hostile suite -----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_hostile_programs_are_contained(lang: str, secret_env, listener) -> None:
    if get_language(lang).missing():
        pytest.skip(f"{lang} is not installed here")
    port = listener.getsockname()[1]
    kinds = list(HOSTILE[lang])
    jobs = [(render(lang, kind, port), ORDINARY[lang][1]) for kind in kinds]
    for path in (p for kind in kinds for p in targets(lang, kind).values()):
        path.unlink(missing_ok=True)
    watcher = Watcher()
    pool = Pool(get_language(lang), LIMITS, workers=2)
    try:
        assert_ordinary(pool, lang, 2)  # workers up, so the timings below measure programs
        started = time.monotonic()
        results = pool.run(jobs, LIMITS)
        elapsed = time.monotonic() - started
        after = pool.run([ORDINARY[lang]] * 4, LIMITS)  # ordinary programs right after
        assert_ordinary(pool, lang)
    finally:
        seen = watcher.stop()
        pool.close()
    assert os.getpid() and os.getppid() != 1  # this process (and its parent) survived
    problems = []
    for kind, result in zip(kinds, results):
        if not isinstance(result, Execution):
            problems.append(f"{kind}: no result")
            continue
        if result.seconds > LIMITS.timeout + SLACK:
            problems.append(f"{kind}: took {result.seconds:.2f}s ({result.status})")
        if leaks(result):
            problems.append(f"{kind}: the secret leaked")
        if len(result.stdout) > LIMITS.output_bytes or len(result.stderr) > LIMITS.output_bytes:
            problems.append(f"{kind}: output not capped ({len(result.stdout)} bytes)")
        expected = {"prolog": EXPECTED_PROLOG, "hy": EXPECTED_HY}.get(lang, {}).get(kind, EXPECTED.get(kind))
        if expected is not None and result.status not in expected:
            problems.append(f"{kind}: status {result.status.value}, expected one of "
                            f"{sorted(s.value for s in expected)} ({result.error[:200]!r})")
        if FILESYSTEM:
            for path in targets(lang, kind).values():
                if path.exists():
                    problems.append(f"{kind}: wrote {path}")
    assert elapsed < len(jobs) * (LIMITS.timeout + SLACK), f"the batch took {elapsed:.1f}s"
    assert_no_connection(listener)
    assert not problems, "\n".join(problems)
    assert [(r.status, r.answer) for r in after] == [(Status.OK, "42")] * 4, after
    assert_all_gone(seen, watcher.baseline)
    if FILESYSTEM:  # daemons that outlived their program would have written by now
        assert not [p for kind in kinds for p in targets(lang, kind).values() if p.exists()]


def test_kill_parent_from_a_worker_leaves_the_test_process_alive(secret_env) -> None:
    """The pool's parent is this process: a program that kills its parent and this pid by number
    must leave it running (it did, or this test would not report)."""
    me = os.getpid()
    pool = Pool(get_language("hy"), LIMITS, workers=1)
    try:
        code = ("(import os signal)\n(defn solve []\n"
                f"  (for [pid [(os.getppid) {me} (os.getpgid 0)]] (try (os.kill pid signal.SIGKILL) (except [Exception] None)))\n"
                f"  (try (os.killpg {me} signal.SIGKILL) (except [Exception] None))\n"
                f"  (try (os.kill -1 signal.SIGKILL) (except [Exception] None))\n  7)")
        [result] = pool.run([(code, "(solve)")], LIMITS)
        assert result.status in (Status.OK, Status.CRASHED), result
        assert result.seconds <= LIMITS.timeout + SLACK
        os.kill(me, 0)
        assert_ordinary(pool, "hy", 1)
    finally:
        pool.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_random_worker_kills_during_a_large_batch(lang: str) -> None:
    """SIGKILL random workers (pool.pids()) from another thread while 200 programs run: every
    program gets a result, each either correct or `crashed`; nothing is left after close."""
    if get_language(lang).missing():
        pytest.skip(f"{lang} is not installed here")
    slow = {  # a few milliseconds each, so that kills land while programs run
        "prolog": ("solve(X) :- sleep(0.02), X is 6*7.", "solve(X)"),
        "lisp": ("(defun solve () (sleep 0.02) (* 6 7))", "(solve)"),
        "hy": ("(import time) (defn solve [] (time.sleep 0.02) (* 6 7))", "(solve)"),
    }[lang]
    n = 200
    watcher = Watcher()
    pool = Pool(get_language(lang), LIMITS, workers=2)
    kills: list[int] = []
    done = threading.Event()
    rng = random.Random(1234)

    def killer() -> None:
        # Only workers that have been in the pool for a while: a worker killed while it starts is
        # a start-up failure, and three in a row make the pool give up on the batch (by design:
        # a language whose workers cannot start fails fast instead of retrying forever).
        first_seen: dict[int, float] = {}
        while not done.wait(rng.uniform(0.1, 0.25)):
            now = time.monotonic()
            for pid in pool.pids():
                first_seen.setdefault(pid, now)
            grown = [pid for pid in pool.pids() if now - first_seen[pid] > 0.8]
            if grown:
                victim = rng.choice(grown)
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills.append(victim)
                except ProcessLookupError:
                    pass

    try:
        assert_ordinary(pool, lang, 2)
        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            results = pool.run([slow] * n, LIMITS)
        finally:
            done.set()
            thread.join()
        assert len(results) == n
        bad = [r for r in results if not (r.status is Status.CRASHED or (r.status, r.answer) == (Status.OK, "42"))]
        assert not bad, bad[:5]
        assert kills, "no worker was killed: the test did not test anything"
        assert sum(r.status is Status.OK for r in results) >= n - len(kills)
        assert_ordinary(pool, lang)
    finally:
        seen = watcher.stop()
        pool.close()
    assert_all_gone(seen, watcher.baseline)


def test_isolation_level_is_reported() -> None:
    assert isolation.level() == LEVEL
    assert LEVEL.split("+")[0] in ("bwrap", "namespaces", "none")
    assert LEVEL in isolation.describe()


# -- a program must not tamper with the process that answers later programs --

TAMPER = {  # each makes later programs in the same worker (Hy) or SBCL (Lisp) answer 666
    "hy": '(import sys)\n(setv (. (get sys.modules "__main__") _execute)\n'
          '  (fn [i r l] {"status" "ok" "answer" "666" "stdout" "" "stderr" "" "error" "" "warnings" [] "seconds" 0}))\n'
          "(defn solve [] 1)",
    "lisp": '(setf (symbol-function (intern "ANSWER-TEXT" "LOWRES-HARNESS")) (lambda (v) (declare (ignore v)) "666"))\n'
            "(defun solve () 1)",
}


# Lisp programs run inside the harness's SBCL: the harness checks after each program that the
# packages and the functions of COMMON-LISP, LOWRES-CL and its own are as they were, and an SBCL a
# program changed is replaced before the next program. Hy forks a child per program.
@pytest.mark.parametrize("lang", ["lisp", "hy"])
def test_a_program_cannot_change_how_later_programs_are_answered(lang: str) -> None:
    if get_language(lang).missing():
        pytest.skip(f"{lang} is not installed here")
    pool = Pool(get_language(lang), LIMITS, workers=1)
    try:
        results = pool.run([(TAMPER[lang], ORDINARY[lang][1]), ORDINARY[lang], ORDINARY[lang]], LIMITS)
    finally:
        pool.close()
    assert [(r.status, r.answer) for r in results[1:]] == [(Status.OK, "42")] * 2, results
