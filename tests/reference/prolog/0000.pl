:- use_module(library(clpq)).

% eggs laid, eaten and baked per day; price per egg
laid(16).
eaten(3).
baked(4).
price(2).

solve(X) :-
    laid(L), eaten(E), baked(B), price(P),
    {Left = L - E - B},
    {X = Left * P}.
