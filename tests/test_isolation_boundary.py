"""The sandbox as a trust boundary (issue 14, classes 1-3): privilege, the filesystem view, honesty.

    python -m pytest -q tests/test_isolation_boundary.py

Each test drives real workers (Hy and Lisp: Prolog's guard refuses `open/3` and file reading before
anything runs, so it cannot even try these attacks) through the public APIs, in a fresh Python
process wherever the isolation level matters, since detection is cached per process. A probe
program reports, one `key=0|1` line each, whether it can open `/proc/sys/vm/swappiness` for writing
(opened and closed, never written), read `/etc/shadow`, the GSM8K dataset, a file planted in the
caller's current directory and one planted in its home, and see `/run` (the host's sockets). Host
uids of the worker processes are read from this side (/proc/PID/status), never trusted from inside.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from shared_paths import SHARED

import lowres_rl.sandbox.isolation as isolation

ROOT = Path(__file__).resolve().parents[1]
LEVEL = isolation.level()
FULL = LEVEL == "bwrap+cgroup"  # what the default layer must be on a machine like this one
DATASETS = [p for p in (SHARED / "data" / "gsm8k" / "test.jsonl",
                        Path("/work/shared/data/gsm8k/test.jsonl")) if p.is_file()]
LANGS = ("hy", "lisp")

pytestmark = pytest.mark.skipif(not LEVEL.startswith("bwrap"),
                                reason=f"no bwrap here (level {LEVEL}): the boundary is not there to test")

HY_PROBE = """(import os)
(defn readable [p]
  (setv ok 0)
  (try (with [f (open p "rb")] (.read f 1)) (setv ok 1) (except [OSError] None))
  ok)
(defn writable [p]
  (setv ok 0)
  (try (os.close (os.open p os.O_WRONLY)) (setv ok 1) (except [OSError] None))
  ok)
(defn solve []
  (print (+ "sysctl_writable=" (str (writable "/proc/sys/vm/swappiness"))))
  (print (+ "run_visible=" (str (int (os.path.isdir "/run")))))
  (for [[name p] (.items PATHS)] (print (+ "read_" name "=" (str (readable p)))))
  1)
"""

LISP_PROBE = """(defun readable (p)
  (handler-case (with-open-file (s p :element-type '(unsigned-byte 8)) (read-byte s nil) 1) (error () 0)))
(defun writable (p)
  (handler-case (with-open-file (s p :direction :output :if-exists :append :if-does-not-exist nil) (if s 1 0))
    (error () 0)))
(defun solve ()
  (format t "sysctl_writable=~a~%" (writable "/proc/sys/vm/swappiness"))
  (format t "run_visible=~a~%" (if (probe-file "/run/") 1 0))
  (dolist (entry PATHS) (format t "read_~a=~a~%" (car entry) (readable (cdr entry))))
  1)
"""

# Run in a fresh process (cwd and environment chosen by the test): prints one JSON object with the
# level, what it leaves unprotected, and per language the probe's report and the host uids of the
# worker processes (the worker's Python, SBCL), read from /proc on the host while they live.
DRIVER = r"""
import json, logging, os, sys
sys.path.insert(0, os.getcwd())  # as `python -m` does: the caller's directory must not matter
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
import lowres_rl.sandbox.isolation as isolation
from lowres_rl.languages import Limits, get_language
from lowres_rl.sandbox.pool import Pool

paths, probes = json.loads(sys.argv[1]), json.loads(sys.argv[3])
langs = sys.argv[2].split(",") if sys.argv[2] else []

def program(lang):
    if lang == "hy":
        return "(setv PATHS " + "{" + " ".join(f'"{k}" "{v}"' for k, v in paths.items()) + "})\n" + probes[lang]
    pairs = " ".join(f'(cons "{k}" "{v}")' for k, v in paths.items())
    return "(defparameter PATHS (list " + pairs + "))\n" + probes[lang]

def below(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except OSError:
                pass
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found

def host_uids(pool):
    uids = {}
    for pid in [p for root in pool.pids() for p in [root, *below(root)]]:
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\0")
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        cmdline = " ".join(argv)  # the worker's Python and SBCL (bwrap and its init stay root: not programs)
        if os.path.basename(argv[0]).startswith(("python", "sbcl")):
            line = next(l for l in status.splitlines() if l.startswith("Uid:"))
            uids[cmdline[:80]] = [int(u) for u in line.split()[1:]]
    return uids

out = {"level": isolation.level(), "describe": isolation.describe()}
try:
    isolation.wrapper()
except isolation.IsolationError as exc:
    out["refused"] = str(exc)
    langs = []
for lang in langs:
    pool = Pool(get_language(lang), Limits(timeout=10.0), workers=1)
    try:
        [r] = pool.run([(program(lang), "(solve)")])
        report = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        out[lang] = {"status": r.status.value, "error": r.error[:500], "report": report,
                     "host_uids": host_uids(pool)}
    finally:
        pool.close()
print(json.dumps(out))
"""


def drive(cwd: Path, langs: tuple[str, ...] = LANGS, **env: str) -> tuple[dict, str]:
    """Run DRIVER from `cwd` with `env` added; plants a file there and in HOME while it runs.
    Returns its JSON report and its stderr (the warnings it logged)."""
    name = f"lowres-planted-{uuid.uuid4().hex}"
    planted = {"cwd": cwd / name, "home": Path.home() / name}
    paths = {"shadow": "/etc/shadow", **{k: str(v) for k, v in planted.items()}}
    if DATASETS:
        paths["dataset"] = str(DATASETS[0])
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOWRES_RL_")}
    environment["PYTHONPATH"] = str(ROOT)  # this tree's package, as an editable install gives
    environment.update(env)
    try:
        for path in planted.values():
            path.write_text("the answer is 42\n")
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, json.dumps(paths), ",".join(langs),
             json.dumps({"hy": HY_PROBE, "lisp": LISP_PROBE})],
            cwd=cwd, env=environment, capture_output=True, text=True, timeout=180)
    finally:
        for path in planted.values():
            path.unlink(missing_ok=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


CWDS = {"tmp": Path("/tmp"), "home": Path.home(), "project": ROOT}


@pytest.mark.parametrize("require", ["0", "1"])
@pytest.mark.parametrize("where", list(CWDS))
def test_full_layer_from_every_cwd(where: str, require: str) -> None:
    """From /tmp, the home directory and the project, with and without LOWRES_RL_REQUIRE_ISOLATION:
    the full layer, no host root, no writable sysctl, none of the secret or planted files, no /run."""
    report, _ = drive(CWDS[where], LOWRES_RL_REQUIRE_ISOLATION=require)
    assert "refused" not in report, report
    assert report["level"] == "bwrap+cgroup", report["describe"]
    for lang in LANGS:
        result = report[lang]
        assert result["status"] == "ok", result
        flags = result["report"]
        wanted = {"sysctl_writable": "0", "run_visible": "0", "read_shadow": "0", "read_cwd": "0",
                  "read_home": "0", **({"read_dataset": "0"} if DATASETS else {})}
        assert flags == wanted, (lang, where, flags)
        assert result["host_uids"], f"{lang}: no worker process found on the host"
        for command, uids in result["host_uids"].items():
            assert 0 not in uids, f"{lang}: {command!r} runs as host uid {uids} (real, effective, saved, fs)"


@pytest.mark.parametrize("cap", ["namespaces", "none"])
def test_weaker_layers_report_what_they_leave_and_require_refuses_them(cap: str) -> None:
    """LOWRES_RL_ISOLATION caps the layer (the fallbacks of a machine without bwrap or user
    namespaces): the level says so, a WARNING names what is unprotected, and REQUIRE refuses it."""
    report, stderr = drive(ROOT, langs=("hy",), LOWRES_RL_ISOLATION=cap)
    assert report["level"].split("+")[0] == cap, report
    assert "refused" not in report
    assert "WARNING" in stderr and "NOT protected" in stderr, stderr
    # the fallback works, and what it says is unprotected is: the (benign) probe reads the file
    # planted in the caller's directory
    assert report["hy"]["status"] == "ok", report["hy"]
    assert "files" in report["describe"] and report["hy"]["report"]["read_cwd"] == "1", report
    report, _ = drive(ROOT, langs=(), LOWRES_RL_ISOLATION=cap, LOWRES_RL_REQUIRE_ISOLATION="1")
    assert cap in report.get("refused", ""), report


def test_without_cgroups_is_weaker_and_refused_when_required() -> None:
    report, stderr = drive(ROOT, langs=(), LOWRES_RL_CGROUPS="0")
    assert report["level"] == "bwrap" and "WARNING" in stderr, (report, stderr)
    report, _ = drive(ROOT, langs=(), LOWRES_RL_CGROUPS="0", LOWRES_RL_REQUIRE_ISOLATION="1")
    assert "refused" in report, report


@pytest.mark.parametrize("where", list(CWDS))
def test_run_info_shows_the_level_and_what_is_not_protected(where: str) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOWRES_RL_")}
    environment["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-m", "lowres_rl.run", "--info"], cwd=CWDS[where],
                          env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["isolation"] == "bwrap+cgroup"
    assert info["protected"] and info["not_protected"], info


def test_the_pool_announces_a_weak_layer_at_every_start(caplog: pytest.LogCaptureFixture) -> None:
    """isolation.announce() (called by every pool start) logs the level; a WARNING when weaker."""
    with caplog.at_level("INFO", logger="lowres_rl.sandbox.isolation"):
        isolation.announce()
        isolation.announce()
    records = [r for r in caplog.records if r.name == "lowres_rl.sandbox.isolation"]
    assert len(records) == 2 and all(LEVEL in r.getMessage() for r in records)
    assert all(r.levelname == ("INFO" if FULL else "WARNING") for r in records)


USERNS_PROBES = {  # each prints unshare_user=0 when a new user namespace is refused, 1 when it is made
    "hy": '(import subprocess)\n(defn solve []\n'
          '  (setv done (subprocess.run ["unshare" "--user" "--map-root-user" "true"] :capture-output True))\n'
          '  (print (+ "unshare_user=" (str (int (= done.returncode 0))))) 1)',
    "lisp": '(defun solve () (let ((p (funcall (intern "RUN-PROGRAM" "SB-EXT") "/usr/bin/unshare"'
            ' (list "--user" "--map-root-user" "true"))))'
            ' (format t "unshare_user=~a~%" (if (eql 0 (funcall (intern "PROCESS-EXIT-CODE" "SB-EXT") p)) 1 0))) 1)',
}


@pytest.mark.parametrize("lang", LANGS)
def test_no_new_user_namespace_inside(lang: str) -> None:
    """A user namespace of its own would give a program every capability over new namespaces (the
    kernel's attack surface): refused, by bwrap --disable-userns or the seccomp filter."""
    from lowres_rl.languages import Limits, get_language
    from lowres_rl.sandbox.pool import Pool

    pool = Pool(get_language(lang), Limits(timeout=5.0), workers=1)
    try:
        [result] = pool.run([(USERNS_PROBES[lang], "(solve)")])
    finally:
        pool.close()
    assert "unshare_user=0" in result.stdout, result


def test_a_venv_reached_through_a_symlink_gets_the_full_layer(tmp_path: Path) -> None:
    """The Python prefix is bound where it really is, and the path the pool starts workers by (a
    symlink to the venv) leads there inside the sandbox too; the venv sits under /tmp, which the
    sandbox otherwise replaces with a private tmpfs."""
    venv, link = tmp_path / "venv", tmp_path / "venv-link"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    link.symlink_to(venv)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOWRES_RL_")}
    environment["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([str(link / "bin" / "python"), "-m", "lowres_rl.run", "--lang", "hy"],
                          input="(defn solve [] 42)", cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout)["answer"] == "42", done.stderr
    assert "weaker" not in done.stderr, done.stderr
