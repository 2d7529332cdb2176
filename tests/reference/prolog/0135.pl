% games owned, games lost, multiplier, and how many fewer
owned(20).
lost(5).
factor(3).
fewer(5).

solve(X) :-
    owned(O), lost(L), factor(F), fewer(W),
    Brian is O - L,
    X is F * Brian - W.
