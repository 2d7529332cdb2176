"""Where the package data lives: `interpreters/` and `prompts/`, shipped inside the package as
`lowres_rl.interpreters` and `lowres_rl.prompts` (see pyproject.toml), found the same way from an
installed wheel, an editable install or a source checkout."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource(package: str, *parts: str) -> Path:
    """Path of a data file, e.g. resource("interpreters", "prolog", "harness.pl")."""
    path = Path(str(files(f"lowres_rl.{package}").joinpath(*parts)))
    if not path.exists():
        raise FileNotFoundError(f"lowres-rl data file missing: {package}/{'/'.join(parts)} "
                                f"(looked at {path}); reinstall the package")
    return path
