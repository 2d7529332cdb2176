% plan minutes, daily call minutes, extra minutes, days
plan(1000).
daily_call(15).
extra(300).
days(30).

solve(X) :-
    plan(P), daily_call(C), extra(E), days(D),
    Used is C * D + E,
    X is P - Used.
