"""`python -m lowres_rl.predict`: the run-free outcome predictor (the work is in lowres_rl.prediction.command)."""
import sys

from lowres_rl.prediction.command import main

if __name__ == "__main__":
    sys.exit(main())
