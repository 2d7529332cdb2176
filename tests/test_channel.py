"""The worker<->pool channel as a trust boundary (issue 14, classes 4 and 5): real workers, real
interpreters. A program, or any process it starts, must not be able to forge, shift or reorder
results, hide a leftover process from the worker's check, or wedge the pool; a malformed frame is
one `crashed` result and a retired worker, never an exception out of Pool.run.

    python -m pytest -q tests/test_channel.py
"""
from __future__ import annotations

import json
import os
import signal
import struct
import threading
import time

import pytest

import lowres_rl.sandbox.isolation as isolation
from lowres_rl.languages import Execution, Limits, Status, get_language
from lowres_rl.sandbox.protocol import FrameBuffer, ProtocolError, encode
from lowres_rl.sandbox.pool import GRACE, Pool

from conftest import one_worker

LIMITS = Limits(timeout=1.0)
NAMESPACES = isolation.level().startswith(("bwrap", "namespaces"))
needs_isolation = pytest.mark.skipif(not NAMESPACES, reason="no OS isolation here: hostile programs would hit this machine")

ORDINARY = {
    "prolog": ("solve(X) :- X is 6*7.", "solve(X)"),
    "lisp": ("(defun solve () (* 6 7))", "(solve)"),
    "hy": ("(defn solve [] (* 6 7))", "(solve)"),
}
FORGED = {"status": "ok", "answer": "666", "stdout": "", "stderr": "", "error": "", "warnings": [], "seconds": 0}


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack(">I", len(body)) + body


FORGERY = frame(FORGED) * 3  # enough for the running job and the queued ones


def hy_bytes(data: bytes) -> str:
    return "(bytes [" + " ".join(str(b) for b in data) + "])"


def lisp_bytes(data: bytes) -> str:
    return "(coerce (list " + " ".join(str(b) for b in data) + ") '(vector (unsigned-byte 8)))"


# Each writes forged replies to every descriptor it holds or can reopen: its own (inherited from the
# worker), /proc/self/fd and the worker's /proc/<ppid>/fd. Then it answers 7.
FORGERS = {
    "hy": "(import os)\n"
          f"(setv data {hy_bytes(FORGERY)})\n"
          "(defn solve []\n"
          "  (for [fd (range 3 256)] (try (os.write fd data) (except [OSError] None)))\n"
          "  (for [pid [\"self\" (str (os.getppid))]]\n"
          "    (for [fd (range 0 64)]\n"
          "      (try (setv f (os.open f\"/proc/{pid}/fd/{fd}\" (| os.O_WRONLY os.O_NONBLOCK)))\n"
          "           (os.write f data) (os.close f) (except [OSError] None))))\n"
          "  7)",
    "lisp": f"(defparameter *data* {lisp_bytes(FORGERY)})\n"
            "(defun poke (path) (ignore-errors (with-open-file (s path :direction :output :if-exists :append"
            " :element-type '(unsigned-byte 8)) (write-sequence *data* s) (finish-output s))))\n"
            "(defun solve ()\n"
            "  (let ((ppid (funcall (intern \"UNIX-GETPPID\" \"SB-UNIX\"))))\n"
            "    (dotimes (fd 64)\n"
            "      (poke (format nil \"/proc/self/fd/~d\" fd))\n"
            "      (poke (format nil \"/proc/~d/fd/~d\" ppid fd))))\n"
            "  7)",
    "prolog": "solve(X) :- forall(between(0, 63, N), catch((format(atom(P), '/proc/self/fd/~d', [N]),\n"
              "    open(P, append, S), write(S, forged), close(S)), _, true)), X = 7.",
}


@needs_isolation
@pytest.mark.parametrize("lang", ["hy", "lisp", "prolog"])
def test_a_program_cannot_forge_or_shift_results(lang: str) -> None:
    """Forged frames written to every descriptor a program can reach: none is taken as a result."""
    results = one_worker(lang, [(FORGERS[lang], ORDINARY[lang][1]), *[ORDINARY[lang]] * 4], LIMITS)
    assert results[0].answer != "666", results[0]
    assert [(r.status, r.answer) for r in results[1:]] == [(Status.OK, "42")] * 4, results


OPEN_WORKER_MEMORY = {  # 666 if the program's process could open its worker's memory for writing
    "hy": "(import os)\n(defn solve []\n  (try (os.close (os.open f\"/proc/{(os.getppid)}/mem\" os.O_RDWR)) 666\n"
          "    (except [OSError] 0)))",
    "lisp": '(defun solve () (if (ignore-errors (with-open-file (s (format nil "/proc/~d/mem"'
            ' (funcall (intern "UNIX-GETPPID" "SB-UNIX"))) :direction :io :if-exists :overwrite'
            " :element-type '(unsigned-byte 8)) t)) 666 0))",
}


@needs_isolation
@pytest.mark.parametrize("lang", sorted(OPEN_WORKER_MEMORY))
def test_a_program_cannot_open_its_workers_memory(lang: str) -> None:
    [result] = one_worker(lang, [(OPEN_WORKER_MEMORY[lang], "(solve)")], LIMITS)
    assert (result.status, result.answer) == (Status.OK, "0"), result


@needs_isolation
def test_lisp_helper_holds_no_protocol_pipe() -> None:
    """SBCL (the worker's helper) holds no descriptor beyond its own stdin/stdout/stderr."""
    code = ('(defun solve () (format nil "~{~a~^ ~}" (loop for fd from 3 below 64'
            ' for link = (funcall (intern "UNIX-READLINK" "SB-UNIX") (format nil "/proc/self/fd/~d" fd))'
            ' when link collect link)))')
    [result] = one_worker("lisp", [(code, "(solve)")], LIMITS)
    assert result.status is Status.OK, result
    assert "pipe:" not in result.answer, result  # its own stdin and stdout are fds 0 and 1


ZOMBIE_LEADER = (  # a grandchild whose main thread exits while a second thread runs on: a zombie leader
    "(import os time threading ctypes)\n"
    "(defn later [] (time.sleep 0.3) (with [f (open \"/tmp/zombie-mark\" \"w\")] (.write f \"x\")) (time.sleep 30))\n"
    "(defn solve []\n"
    "  (when (= (os.fork) 0)\n"
    "    (os.setsid)\n"
    "    (when (= (os.fork) 0)\n"
    "      (os.closerange 3 256)\n"  # not even the program's result pipe: the program returns at once
    "      (.start (threading.Thread :target later))\n"
    "      (time.sleep 0.05)\n"
    "      (.syscall (ctypes.CDLL None) 60 0))\n"  # SYS_exit: only the main thread ends
    "    (os._exit 0))\n"
    "  (time.sleep 0.1)\n"
    "  1)")
SEES_MARK = "(import os time)\n(defn solve [] (time.sleep 0.6) (if (os.path.exists \"/tmp/zombie-mark\") 666 42))"


@needs_isolation
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the test calls SYS_exit by its x86-64 number")
def test_a_zombie_leader_with_a_live_thread_is_a_leftover() -> None:
    """The leftover thread would write a mark the next program on the same worker sees: the worker
    must find it (a zombie in /proc/<pid>/stat, a live task in /proc/<pid>/task) and retire."""
    if not isolation.level().startswith("bwrap"):
        pytest.skip("needs a private /tmp per worker (level bwrap)")
    results = one_worker("hy", [(ZOMBIE_LEADER, "(solve)"), (SEES_MARK, "(solve)")], Limits(timeout=2.0))
    assert [(r.status, r.answer) for r in results] == [(Status.OK, "1"), (Status.OK, "42")], results


# -- the pool never blocks -------------------------------------------------------------------------

def test_a_stopped_worker_cannot_block_the_pool_in_a_write(tmp_path) -> None:
    """A request larger than a pipe holds, sent to a worker that has been SIGSTOPped: the pool
    must not block in the write; the program is a timeout at the deadline, the next ones run."""
    pool = Pool(get_language("hy"), LIMITS, workers=1)
    big = ";" + "x" * (1 << 20) + "\n(defn solve [] (* 6 7))"
    outcome: dict = {}
    try:
        assert [r.answer for r in pool.run([ORDINARY["hy"]], LIMITS)] == ["42"]
        [pid] = pool.pids()
        os.killpg(pid, signal.SIGSTOP)  # the worker's whole sandbox (its own session and group)

        def run() -> None:
            started = time.monotonic()
            outcome["results"] = pool.run([(big, "(solve)"), ORDINARY["hy"]], LIMITS)
            outcome["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(LIMITS.timeout + GRACE + 5)
        stuck = thread.is_alive()
        if stuck:  # unblock the pool so that the test process can end
            os.killpg(pid, signal.SIGKILL)
            thread.join(5)
    finally:
        pool.close()
    assert not stuck, "the pool blocked writing to a stopped worker"
    statuses = [(r.status, r.answer) for r in outcome["results"]]
    assert statuses[0][0] in (Status.TIMEOUT, Status.CRASHED) and statuses[1] == (Status.OK, "42"), statuses
    assert outcome["seconds"] < 2 * (LIMITS.timeout + GRACE) + 3, outcome["seconds"]


# -- malformed frames, decoded on the pool's side --------------------------------------------------

HOSTILE_FRAMES = {
    "deep_nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep_object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "not_utf8": b"\xff\xfe{}",
    "not_an_object": b"[1, 2]",
    "bad_types": json.dumps({"status": "ok", "answer": {"x": 1}, "warnings": 5, "seconds": "soon"}).encode(),
    "unknown_status": json.dumps({"status": "great"}).encode(),
    "huge_number": b'{"status": "ok", "seconds": 1' + b"0" * 5000 + b"}",
    "nan_seconds": b'{"status": "ok", "seconds": NaN}',
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_FRAMES))
def test_a_malformed_frame_raises_what_the_pool_turns_into_crashed(kind: str) -> None:
    """Each frame is refused, by the decoder (ProtocolError) or by the reply's fields (ValueError,
    KeyError): exceptions Pool._on_message turns into `crashed`; never RecursionError or worse."""
    body = HOSTILE_FRAMES[kind]
    buffer = FrameBuffer(max_frame=4 << 20)
    with pytest.raises((ProtocolError, ValueError, KeyError)) as caught:
        for message in buffer.feed(struct.pack(">I", len(body)) + body):
            Execution.from_dict(message, LIMITS)
    assert not isinstance(caught.value, RecursionError)


def test_an_oversized_frame_is_refused_from_its_header() -> None:
    """A 60 MB frame is refused as soon as its length is read, never kept whole."""
    buffer = FrameBuffer(max_frame=4 << 20)
    with pytest.raises(ProtocolError):
        buffer.feed(struct.pack(">I", 60 << 20) + b"{" * 1000)


def test_reply_fields_are_capped() -> None:
    huge = {"status": "ok", "answer": "1" * 10, "stdout": "x" * 10_000_000, "stderr": "y" * 10_000_000,
            "error": "z" * 10_000_000, "warnings": ["w" * 100_000] * 10_000}
    execution = Execution.from_dict(huge, LIMITS)
    assert len(execution.stdout) <= LIMITS.output_bytes and len(execution.stderr) <= LIMITS.output_bytes
    assert len(execution.error) <= 10_000 and sum(map(len, execution.warnings)) <= 100_000


def test_encode_decode_round_trip() -> None:
    message = {"id": "abc", "code": "λ\udc80", "query": "q"}
    [back] = FrameBuffer(max_frame=1 << 20).feed(encode(message))
    assert back["id"] == "abc" and back["query"] == "q"
