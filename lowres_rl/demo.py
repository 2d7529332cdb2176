"""`python -m lowres_rl.demo`: offline demo: GRPO teaching a tiny model (the work is in lowres_rl.offline.demo)."""
import sys

from lowres_rl.offline.demo import main

if __name__ == "__main__":
    sys.exit(main())
