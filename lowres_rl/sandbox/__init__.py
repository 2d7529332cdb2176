"""The sandbox: where model-written programs run, never in the calling process.

    from lowres_rl.sandbox import run, close
    executions = run(language, programs, limits)

runner (the call) -> pool (workers, deadlines, the channel) -> worker (inside the sandbox: the
language's interpreter) over protocol; isolation (bwrap, uid drop, seccomp, fsview, cgroups) is
the OS layer around each worker, workspace the per-program clean-up, cpus the pool size.
"""
from lowres_rl.sandbox.pool import Pool
from lowres_rl.sandbox.runner import close, pool, run, running

__all__ = ["Pool", "close", "pool", "run", "running"]
