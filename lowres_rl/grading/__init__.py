"""From a completion to rewards: response formats (formats, response), gold answers (answers),
the hard-coding check (literals, hardcoding), reward components and presets (graded, presets),
and the Grader with its TRL reward functions (rewards). Programs run through lowres_rl.sandbox."""
