% starting price, increase fraction of original, months per step, total months
start_price(20).
increase(0.2).
step_months(2).
months(36).

solve(X) :-
    start_price(P), increase(I), step_months(S), months(M),
    Steps is M / S,
    X is P + P * I * Steps.
