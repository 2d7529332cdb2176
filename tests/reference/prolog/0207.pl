% counts of bars and apples, bar weight, bar-to-apple weight ratio
bars(25).
apples(80).
bar_weight(40).
ratio(2).

solve(X) :-
    bars(B), apples(A), bar_weight(W), ratio(R),
    AppleW is W / R,
    X is B * W + A * AppleW.
