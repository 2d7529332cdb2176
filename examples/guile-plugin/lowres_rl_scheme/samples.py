"""The conformance kit's sample programs for Scheme (entry point group `lowres_rl.samples`).

    python -m lowres_rl.check scheme

Kept apart from the language module so that sandbox workers, which import `lowres_rl_scheme`,
never import the kit.
"""
from lowres_rl.testing import LanguageSamples

SAMPLES = LanguageSamples(
    correct=("(define (total-cost)\n  (let* ((price 12) (count 3))\n    (+ (* price count) 6)))",
             "(total-cost)", "42"),
    syntax_error="(define (solve) (* 6 7)",
    runtime_error='(define (solve) (+ 1 "a"))',
    no_answer="(define (solve) (if #f #f))",
    infinite_loop="(define (solve) (let loop () (loop)))",
    exit_call="(define (solve) (exit 3))",
    define="(define (helper) 42)\n(define (solve) (helper))",
    use_definition="(define (solve) (helper))",
)
