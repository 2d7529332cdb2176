"""lowres-rl: teach small code models to reason in low-resource languages with GRPO.

Data flows one way: dataset → prompt → completion → parse → run → grade → reward → GRPO.
Importing the package is cheap (no torch); heavy modules load only when used.
"""
from lowres_rl.languages import (
    Execution, Language, Limits, Program, Status, available_languages, get_language,
)

__version__ = "0.1.0"
__all__ = ["Execution", "Language", "Limits", "Program", "Status", "available_languages", "get_language"]
