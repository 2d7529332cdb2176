"""The conformance kit for language plugins: `check_language(language)` runs a language's sample
programs (lowres_rl.testing.samples) through the real sandbox (lowres_rl.testing.kit) and reports
what conforms (lowres_rl.testing.report).

    from lowres_rl.testing import LanguageSamples, check_language
    python -m lowres_rl.check scheme
"""
from lowres_rl.testing.kit import check_language
from lowres_rl.testing.report import CheckResult, Report
from lowres_rl.testing.samples import BUILTIN_SAMPLES, LanguageSamples, SamplesError, find_samples

__all__ = ["BUILTIN_SAMPLES", "CheckResult", "LanguageSamples", "Report", "SamplesError", "check_language",
           "find_samples"]
