"""`python -m lowres_rl.evaluate`: reasoning accuracy per language (the work is in lowres_rl.evaluation.main)."""
import sys

from lowres_rl.evaluation.main import main

if __name__ == "__main__":
    sys.exit(main())
