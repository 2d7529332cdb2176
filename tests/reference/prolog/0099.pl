% new plants, plants per ledge, ledges, plants given per ledge
new_plants(18).
per_ledge(2).
ledges(40).
given_per_ledge(1).

solve(X) :-
    new_plants(N), per_ledge(P), ledges(L), given_per_ledge(G),
    X is N + P * L - G * L.
