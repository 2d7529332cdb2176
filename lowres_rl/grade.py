"""`python -m lowres_rl.grade`: grade a JSONL file of completions (the work is in lowres_rl.grading.command)."""
import sys

from lowres_rl.grading.command import main

if __name__ == "__main__":
    sys.exit(main())
