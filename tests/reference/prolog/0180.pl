:- use_module(library(clpq)).

% total votes and the winner's share
voters(80).
winner_share(3/4).

solve(X) :-
    voters(V), winner_share(S),
    {Winner = S * V},
    {X = V - Winner}.
