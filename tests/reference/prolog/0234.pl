:- use_module(library(clpq)).

% tomatoes he eats per day, ratio to girlfriend, yield per vine per week
he_eats(6).
ratio(2).
vine_yield(3).
days_per_week(7).

solve(X) :-
    he_eats(H), ratio(R), vine_yield(Y), days_per_week(D),
    {Her = H / R},
    {Weekly = (H + Her) * D},
    {X * Y = Weekly}.
