"""The hostile programs the sandbox tests run (tests/test_hostile.py, tests/test_prolog_guard.py),
per language and kind, with their placeholders and how they are filled in: @HOME@ and @TMP@ are
unique target paths (per language and kind) in this process's HOME and temporary directory,
@PORT@ a port the test listens on, @PID@ the test process."""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

LANGUAGES = ("prolog", "lisp", "hy")
SECRET_NAME = "LOWRES_HOSTILE_SECRET"
SECRET = f"hostile-secret-{uuid.uuid4().hex}"
RUN_ID = uuid.uuid4().hex[:10]

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
