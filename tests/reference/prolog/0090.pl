% pounds per adult, number of adults and children
adult_portion(10).
adults(20).
children(5).

child_portion(P) :-
    adult_portion(A),
    P is A / 2.

solve(X) :-
    adult_portion(A), child_portion(C), adults(NA), children(NC),
    X is NA * A + NC * C.
