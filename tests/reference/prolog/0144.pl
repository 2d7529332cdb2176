:- use_module(library(clpq)).

% current and potential clients, supplies per client, prices, weekly income
clients(3).
potential(5).
bottles_per_client(2).
bottle_price(2).
cloth_price(5).
income(92).

solve(X) :-
    clients(C), potential(P), bottles_per_client(B),
    bottle_price(BP), cloth_price(CP), income(I),
    {Total = C + P},
    {Expenses = Total * (B * BP + CP)},
    {X = I - Expenses}.
