"""The conformance kit for language plugins: `check_language(language)` runs a language's sample
programs (lowres_rl.testing.kit) through the real sandbox and reports what conforms.

    from lowres_rl.testing import LanguageSamples, check_language
    python -m lowres_rl.check scheme
"""
from lowres_rl.testing.kit import (
    BUILTIN_SAMPLES, CheckResult, LanguageSamples, Report, SamplesError, check_language, find_samples,
)

__all__ = ["BUILTIN_SAMPLES", "CheckResult", "LanguageSamples", "Report", "SamplesError", "check_language",
           "find_samples"]
