:- use_module(library(clpq)).

% fries eaten by the man, pigeons and fries eaten per pigeon, ant loss, fries left
man(14).
pigeons(3).
per_pigeon(3).
ants(1).
left(5).

solve(X) :-
    man(M), pigeons(P), per_pigeon(Q), ants(A), left(L),
    {Gull = M / 2},
    {R = X - M - Gull - P * Q},
    {R - 2/3 * R - A = L}.
