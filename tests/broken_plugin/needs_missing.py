"""A language plugin whose import fails: it needs a package that is not installed."""
import lowres_rl_dependency_that_is_not_installed  # noqa: F401

from lowres_rl.languages.hy import Hy


class Broken(Hy):
    name = "brokenlang"
