"""A run-free outcome predictor: from a program's text alone, the probability that it runs to an
answer, or hits a syntax error, a runtime error or a timeout (`python -m lowres_rl.predict`).

    from lowres_rl.prediction.model import Predictor
    Predictor.load("predictor.joblib").predict(programs)   # [{'ok': 0.9, 'syntax_error': 0.1, ...}]
"""
