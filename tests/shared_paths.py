"""Where the project's shared data and models are: `shared/` beside the checkout (CI and /work/main),
or in a folder above it (a git worktree such as /work/wt/<name>), or $LOWRES_SHARED.

    from shared_paths import shared_path
    QWEN = shared_path("models", "qwen2.5-tokenizer")    # a Path, or None when absent: skip then
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_path(*parts: str) -> Path | None:
    """The first existing `<candidate>/<parts...>`: $LOWRES_SHARED, then `shared/` beside the
    repository and beside each folder above it; None when none exists."""
    env = os.environ.get("LOWRES_SHARED")
    candidates = ([Path(env)] if env else []) + [folder / "shared" for folder in REPO.parents]
    for candidate in candidates:
        path = candidate.joinpath(*parts)
        if path.exists():
            return path
    return None


SHARED = shared_path() or REPO.parent / "shared"  # the shared folder (where it would be, when absent)
