"""`python -m lowres_rl.train`: GRPO training with TRL and LoRA (the work is in lowres_rl.training.main)."""
import sys

from lowres_rl.training.main import main

if __name__ == "__main__":
    sys.exit(main())
