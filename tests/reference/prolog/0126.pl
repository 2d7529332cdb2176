% chicken sausages and how many more fish sausages
chicken(38).
more_fish(6).

fish(F) :-
    chicken(C), more_fish(M),
    F is C + M.

solve(X) :-
    chicken(C), fish(F),
    X is C + F.
