% pairs per child, children, price per pair
pairs_per_child(2).
children(3).
price(60).

solve(X) :-
    pairs_per_child(P), children(C), price(Pr),
    Pairs is P * C,
    X is Pairs * Pr.
