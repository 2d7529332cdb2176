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
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

import lowres_rl.sandbox.isolation as isolation
from lowres_rl.languages import Execution, Limits, Status, get_language
from lowres_rl.sandbox.pool import Pool

LANGUAGES = ("prolog", "lisp", "hy")
LIMITS = Limits(timeout=1.0)
SLACK = 1.0  # seconds past the limit a result may take
SECRET_NAME = "LOWRES_HOSTILE_SECRET"
SECRET = f"hostile-secret-{uuid.uuid4().hex}"
RUN_ID = uuid.uuid4().hex[:10]

LEVEL = isolation.level()
NAMESPACES = LEVEL.startswith(("bwrap", "namespaces"))
FILESYSTEM = LEVEL.startswith("bwrap")

pytestmark = pytest.mark.skipif(
    not NAMESPACES and os.environ.get("LOWRES_RL_REQUIRE_ISOLATION") != "1",
    reason=f"no OS isolation here (level {LEVEL}): hostile programs would hit this machine")

ORDINARY = {
    "prolog": ("solve(X) :- X is 6*7.", "solve(X)"),
    "lisp": ("(defun solve () (* 6 7))", "(solve)"),
    "hy": ("(defn solve [] (* 6 7))", "(solve)"),
}

# Placeholders: @HOME@ and @TMP@ are unique target paths (per language and kind) in this process's
# HOME and temporary directory; @PORT@ is a port this process listens on; @PID@ is this process.
SH_MISCHIEF = ("echo $" + SECRET_NAME + "; cat /proc/@PID@/environ /proc/$PPID/environ; "
               "touch @HOME@ @TMP@; kill -9 @PID@ $PPID")

HOSTILE: dict[str, dict[str, str]] = {
    "prolog": {
        "fork_bomb": ":- use_module(library(unix)).\n"
                     "solve(X) :- repeat, catch(fork(_), _, true), X = 1, fail.",
        "shell_fork_bomb": "solve(X) :- shell('f() { f | f & }; f'), X = 1.",
        "write_home": "solve(X) :- open('@HOME@', write, S), write(S, x), close(S), X = 1.",
        "write_tmp": "solve(X) :- open('@TMP@', write, S), write(S, x), close(S), X = 1.",
        "tell_tmp": "solve(X) :- tell('@TMP@'), write(x), told, X = 1.",
        "read_secret": f"solve(X) :- getenv('{SECRET_NAME}', X).",
        "read_proc_environ": "solve(X) :- expand_file_name('/proc/*/environ', Fs),\n"
                             "    findall(S, (member(F, Fs), catch(read_file_to_string(F, S, []), _, fail)), Ss),\n"
                             "    atomic_list_concat(Ss, '|', X), write(X).",
        "network": ":- use_module(library(socket)).\n"
                   "solve(X) :- tcp_connect('127.0.0.1':@PORT@, S, []), close(S), X = 1.",
        "kill_parent": ":- use_module(library(unix)).\n"
                       "solve(X) :- catch(kill(@PID@, 9), _, true), shell('kill -9 $PPID @PID@'), X = 1.",
        "ignore_signals": "spin(X) :- spin(X).\n"
                          "solve(X) :- on_signal(int, _, true), on_signal(term, _, true),\n"
                          "    on_signal(alrm, _, true), on_signal(hup, _, true), spin(X).",
        "print_100mb": "solve(X) :- length(L, 1000000), maplist(=(0'x), L), atom_codes(A, L),\n"
                       "    forall(between(1, 100, _), write(A)), X = 1.",
        "sleep": "solve(X) :- sleep(100), X = 1.",
        "deep_recursion": "f(N) :- f(M), N is M + 1.\nsolve(X) :- f(X).",
        "memory_bomb": "solve(X) :- length(L, 1000000000), X = L.",
        "exit": "solve(X) :- X = 1, system:halt(3).",
        "catch_all": "loop :- loop.\nsolve(X) :- repeat, catch(loop, _, true), X = 1, fail.",
        "threads": "spin :- spin.\n"
                   "solve(X) :- forall(between(1, 50, _), thread_create(spin, _, [detached(true)])), X = 1.",
        "shell": "solve(X) :- shell('" + SH_MISCHIEF + "'), X = 1.",
        "process_create": "solve(X) :- process_create(path(sh), ['-c', '" + SH_MISCHIEF + "'], []), X = 1.",
        "daemon": "solve(X) :- shell('setsid sh -c \"while true; do touch @TMP@ @HOME@; sleep 0.1; done\" "
                  ">/dev/null 2>&1 &'), X = 1.",
        "remount": "solve(X) :- shell('mount -o remount,rw,bind / ; mount -o remount,rw / ; touch @HOME@'), X = 1.",
        "directive": ":- shell('touch @HOME@ @TMP@').\nsolve(1).",
        "message_format": "solve(X) :- X = 1, throw(format(\"~@\", [shell('touch @HOME@ @TMP@')])).",
        "hook_other_module": "user:message_hook(_, _, _) :- shell('touch @HOME@ @TMP@'), fail.\n"
                             "solve(X) :- X is 1/0.",
    },
    "lisp": {
        "fork_bomb": '(defun solve () (funcall (intern "RUN-PROGRAM" "SB-EXT") "/bin/sh"'
                     ' (list "-c" "f() { f | f & }; f")) (loop))',
        "write_home": '(defun solve () (with-open-file (s "@HOME@" :direction :output :if-exists :supersede)'
                      ' (write-string "x" s)) 1)',
        "write_tmp": '(defun solve () (with-open-file (s "@TMP@" :direction :output :if-exists :supersede)'
                     ' (write-string "x" s)) 1)',
        "read_secret": f'(defun solve () (funcall (intern "POSIX-GETENV" "SB-EXT") "{SECRET_NAME}"))',
        "read_proc_environ": '(defun slurp (p) (ignore-errors (with-open-file (s p) (let ((out (make-string 100000)))'
                             ' (subseq out 0 (read-sequence out s))))))\n'
                             '(defun solve () (let ((all (format nil "~{~a~^|~}" (mapcar (function slurp)'
                             ' (append (list "/proc/@PID@/environ" "/proc/self/environ")'
                             ' (directory "/proc/*/environ")))))) (write-string all) all))',
        "network": '(defun solve () (require "SB-BSD-SOCKETS")'
                   ' (let ((s (make-instance (find-symbol "INET-SOCKET" "SB-BSD-SOCKETS") :type :stream :protocol :tcp)))'
                   ' (funcall (find-symbol "SOCKET-CONNECT" "SB-BSD-SOCKETS") s #(127 0 0 1) @PORT@) 1))',
        "kill_parent": '(defun solve () (ignore-errors (funcall (intern "UNIX-KILL" "SB-UNIX") @PID@ 9))'
                       ' (funcall (intern "RUN-PROGRAM" "SB-EXT") "/bin/sh" (list "-c" "kill -9 $PPID @PID@; kill -9 -1")) 1)',
        "ignore_signals": '(defun solve () (dolist (n (list 1 2 14 15 26))'
                          ' (ignore-errors (funcall (intern "ENABLE-INTERRUPT" "SB-SYS") n :ignore))) (loop))',
        "print_100mb": '(defun solve () (let ((s (make-string 1000000 :initial-element #\\x)))'
                       ' (dotimes (i 100) (write-string s)) 1))',
        "sleep": "(defun solve () (sleep 100))",
        "deep_recursion": "(defun f (n) (1+ (f n)))\n(defun solve () (f 0))",
        "memory_bomb": "(defun solve () (let ((l nil)) (loop (push (make-array 100000) l))))",
        "exit": '(defun solve () (funcall (intern "EXIT" "SB-EXT") :code 3 :abort t))',
        "exit_direct": "(defun solve () (sb-ext:exit :code 3 :abort t))",
        "catch_all": "(defun solve () (loop (handler-case (loop) (condition () nil))))",
        "threads": '(defun solve () (dotimes (i 50) (funcall (intern "MAKE-THREAD" "SB-THREAD")'
                   ' (lambda () (loop)))) 1)',
        "shell": '(defun solve () (funcall (intern "RUN-PROGRAM" "SB-EXT") "/bin/sh" (list "-c" "'
                 + SH_MISCHIEF + '") :output t) 1)',
        "shell_direct": '(defun solve () (sb-ext:run-program "/bin/sh" (list "-c" "touch @HOME@ @TMP@")) 1)',
        "daemon": '(defun solve () (funcall (intern "RUN-PROGRAM" "SB-EXT") "/bin/sh" (list "-c"'
                  ' "setsid sh -c \'while true; do touch @TMP@ @HOME@; sleep 0.1; done\' >/dev/null 2>&1 &")) 1)',
        "remount": '(defun solve () (funcall (intern "RUN-PROGRAM" "SB-EXT") "/bin/sh" (list "-c"'
                   ' "mount -o remount,rw,bind / ; mount -o remount,rw / ; touch @HOME@")) 1)',
        "read_eval": '(defun solve () #.(sb-ext:run-program "/bin/sh" (list "-c" "touch @HOME@ @TMP@")))',
        "fill_workdir": "(defun solve () (dotimes (i 100) (with-open-file (s (format nil \"fill-~d\" i)"
                        " :direction :output :if-exists :supersede :element-type '(unsigned-byte 8))"
                        " (write-sequence (make-array 8000000 :element-type '(unsigned-byte 8)) s))) 1)",
    },
    "hy": {
        "fork_bomb": "(import os)\n(defn solve [] (while True (try (os.fork) (except [OSError] None))))",
        "write_home": '(defn solve [] (with [f (open "@HOME@" "w")] (.write f "x")) 1)',
        "write_tmp": '(defn solve [] (with [f (open "@TMP@" "w")] (.write f "x")) 1)',
        "read_secret": f'(import os)\n(defn solve [] (os.environ.get "{SECRET_NAME}" "absent"))',
        "read_proc_environ": '(import os)\n(defn solve []\n  (setv found [])\n'
                             '  (for [p (+ ["@PID@" (str (os.getppid))] (os.listdir "/proc"))]\n'
                             '    (try (with [f (open (+ "/proc/" p "/environ") "rb")] (.append found (.decode (.read f) "latin-1")))\n'
                             '      (except [Exception] None)))\n'
                             '  (print (.join "|" found))\n  (.join "|" found))',
        "network": '(import socket)\n(defn solve [] (socket.create_connection #("127.0.0.1" @PORT@) :timeout 0.5) 1)',
        "kill_parent": "(import os)\n(defn solve []\n  (for [pid [(os.getppid) @PID@ 1 -1]]\n"
                       "    (try (os.kill pid 9) (except [Exception] None)))\n  1)",
        "ignore_signals": "(import signal)\n(defn solve []\n"
                          "  (for [s [signal.SIGTERM signal.SIGINT signal.SIGALRM signal.SIGHUP signal.SIGXCPU]]\n"
                          "    (signal.signal s signal.SIG_IGN))\n  (while True (setv x 1)))",
        "print_100mb": '(defn solve [] (setv chunk (* "x" 1000000)) (for [i (range 100)] (print chunk)) 1)',
        "sleep": "(import time)\n(defn solve [] (time.sleep 100))",
        "deep_recursion": "(import sys)\n(sys.setrecursionlimit 100000000)\n(defn f [n] (+ 1 (f n)))\n(defn solve [] (f 0))",
        "memory_bomb": "(defn solve [] (setv l []) (while True (.append l (bytearray 100000000))))",
        "exit": "(import os)\n(defn solve [] (os._exit 3))",
        "catch_all": "(defn spin [] (while True (sum [1 2])))\n"
                     "(defn solve [] (while True (try (spin) (except [BaseException] None))))",
        "threads": "(import threading)\n(defn spin [] (while True (setv x 1)))\n"
                   "(defn solve [] (for [i (range 50)] (.start (threading.Thread :target spin :daemon True))) (spin))",
        "shell": '(import subprocess)\n(defn solve [] (subprocess.run ["/bin/sh" "-c" "' + SH_MISCHIEF
                 + '"] :timeout 0.8) 1)',
        "os_system": '(import os)\n(defn solve [] (os.system "' + SH_MISCHIEF + '") 1)',
        "daemon": "(import os time)\n(defn solve []\n  (when (= (os.fork) 0)\n    (os.setsid)\n"
                  "    (when (= (os.fork) 0)\n      (for [i (range 100)]\n"
                  '        (for [p ["@TMP@" "@HOME@"]] (try (with [f (open p "w")] (.write f "x")) (except [Exception] None)))\n'
                  "        (time.sleep 0.1))\n      (os._exit 0))\n    (os._exit 0))\n  1)",
        "remount": '(import subprocess)\n(defn solve [] (subprocess.run ["/bin/sh" "-c"'
                   ' "mount -o remount,rw,bind / ; mount -o remount,rw / ; unshare -Urm true; touch @HOME@"]'
                   " :timeout 0.8 :capture-output True) 1)",
        "fill_workdir": '(defn solve [] (for [i (range 100)] (with [f (open (+ "fill-" (str i)) "wb")]'
                        ' (.write f (bytes 8000000)))) 1)',
    },
}

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


def targets(lang: str, kind: str) -> dict[str, Path]:
    name = f"lowres-hostile-{RUN_ID}-{lang}-{kind}"
    return {"@HOME@": Path.home() / name, "@TMP@": Path(tempfile.gettempdir()) / name}


def render(lang: str, kind: str, port: int) -> str:
    code = HOSTILE[lang][kind]
    for token, path in targets(lang, kind).items():
        code = code.replace(token, str(path))
    return code.replace("@PORT@", str(port)).replace("@PID@", str(os.getpid()))


def all_targets() -> list[Path]:
    return [p for lang in LANGUAGES for kind in HOSTILE[lang] for p in targets(lang, kind).values()]


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


# -- the Prolog guard (interpreters/prolog/guard.pl), checked on its own ---------------------------

GUARD_REFUSES = ("fork_bomb", "shell_fork_bomb", "write_home", "write_tmp", "tell_tmp", "read_secret",
                 "read_proc_environ", "network", "kill_parent", "ignore_signals", "exit", "threads", "shell",
                 "process_create", "daemon", "remount", "directive", "message_format", "hook_other_module")
GUARD_EXTRA_REFUSED = {
    "univ_call": "solve(X) :- G =.. [shell, 'true'], call(G), X = 1.",
    "format_W": "solve(X) :- format(\"~W\", [a, [portray_goal(shell)]]), X = 1.",
    "print_message": "solve(X) :- X = 1, print_message(error, format(\"~@\", [shell(true)])).",
    "initialization": ":- initialization(main).\nmain :- shell('true').\nsolve(1).",
    "term_expansion": "term_expansion(a, (:- shell('true'))).\na.\nsolve(1).",
    "assert_rule": "solve(X) :- assertz((g :- shell(true))), g, X = 1.",
    "consult": "solve(X) :- consult('/etc/passwd'), X = 1.",
    "setenv": "solve(X) :- setenv('A', b), X = 1.",
}
GUARD_ALLOWS = {
    "arithmetic": "solve(X) :- Y is max(3, 4) + sqrt(16) + 7 mod 2, X is Y * 2.",
    "clpq": ":- use_module(library(clpq)).\nsolve(X) :- {X = 3*4 + Y, Y = 2}.",
    "clpq_inf": "solve(X) :- {X >= 2, X =< 5}, inf(X, X).",
    "clpfd": ":- use_module(library(clpfd)).\nsolve(X) :- X #= 6*7.",
    "findall_between": "solve(X) :- findall(Y, between(1, 10, Y), L), sum_list(L, X).",
    "aggregate": "solve(X) :- aggregate_all(sum(Y), member(Y, [1, 2, 3]), X).",
    "maplist_foldl": "d(A, B) :- B is A*2.\nsolve(X) :- maplist(d, [1, 2], L), foldl([A, B0, B]>>(B is A+B0), L, 0, X).",
    "output": "solve(X) :- format(\"~w ~a~n\", [a, b]), write(x), nl, print(y), tab(2), writeln(z),\n"
              "    format(user_error, \"~d~n\", [3]), format(atom(A), '~2f', [3.14159]), atom_number(A, X).",
    "dynamic_facts": ":- dynamic seen/1.\nsolve(X) :- assertz(seen(1)), retract(seen(X)).",
    "catch": "solve(X) :- catch(X is foo + 1, error(type_error(_, _), _), X = 0).",
    "dcg": "s --> [a], s.\ns --> [].\nsolve(X) :- phrase(s, [a, a]), X = 2.",
    "initialization_ok": ":- initialization(main).\nmain :- format(\"hi~n\").\nsolve(1).",
    "strings": "solve(X) :- string_concat(\"ab\", \"cd\", S), string_length(S, X), atom_string(_, S).",
}


def test_prolog_guard_allows_reference_programs_and_refuses_hostile_ones(tmp_path: Path) -> None:
    """guard.pl on its own (tests/hostile/guard_check.pl loads programs as harness.pl does): the
    reference solutions and ordinary features pass, the hostile programs are refused."""
    import re
    import shutil
    import subprocess

    from lowres_rl.languages.resources import resource

    if shutil.which("swipl") is None:
        pytest.skip("swipl is not installed here")
    guard = resource("interpreters", "prolog", "guard.pl")
    prolog = get_language("prolog")
    comment = re.compile(r"^\s*%+\s*query:\s*(?P<query>.+?)\s*$")
    cases: list[tuple[str, str, str, bool]] = []  # name, code, query, expected safe
    for path in sorted((Path(__file__).parent / "reference" / "prolog").glob("*.pl")):
        code = path.read_text(encoding="utf-8")
        match = comment.match(code.splitlines()[0] if code else "")
        query = prolog.normalize_query(match["query"]) if match else prolog.default_query
        cases.append((f"reference/{path.name}", code, query, True))
    assert len(cases) >= 30
    cases += [(f"allows/{k}", code, "solve(X)", True) for k, code in GUARD_ALLOWS.items()]
    cases += [(f"hostile/{k}", render("prolog", k, 9), "solve(X)", False) for k in GUARD_REFUSES]
    cases += [(f"refuses/{k}", code, "solve(X)", False) for k, code in GUARD_EXTRA_REFUSED.items()]
    args = []
    for i, (_, code, query, _) in enumerate(cases):
        file = tmp_path / f"{i}.pl"
        file.write_text(code, encoding="utf-8")
        args += [str(file), query]
    done = subprocess.run(["swipl", str(Path(__file__).parent / "hostile" / "guard_check.pl"), "--", str(guard), *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    lines = [line[3:] for line in done.stderr.splitlines() if line.startswith("@@ ")]
    assert len(lines) == len(cases), done.stdout + done.stderr
    wrong = [(name, line) for (name, _, _, safe), line in zip(cases, lines) if (line == "safe") != safe]
    assert not wrong, "\n".join(f"{name}: {line}" for name, line in wrong)


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
