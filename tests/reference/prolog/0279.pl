:- use_module(library(clpq)).

% age multiple now, years ahead, age multiple then
now_factor(6).
years(9).
later_factor(3).

solve(X) :-
    now_factor(F), years(Y), later_factor(G),
    {R = F * X},
    {R + Y = G * (X + Y)}.
