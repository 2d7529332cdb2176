:- use_module(library(clpq)).

% days by bus; car takes half as many days
bus_days(6).

solve(X) :-
    bus_days(B),
    {Car = B / 2},
    {X = B + Car}.
