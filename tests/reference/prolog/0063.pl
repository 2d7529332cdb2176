:- use_module(library(clpq)).

% monthly price, months in each half year, discount percent
monthly(140).
half_year(6).
discount_percent(10).

solve(X) :-
    monthly(P), half_year(M), discount_percent(D),
    {First = P * M},
    {Second = P * (1 - D/100) * M},
    {X = First + Second}.
