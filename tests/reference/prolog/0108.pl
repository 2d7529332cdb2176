:- use_module(library(clpq)).

% extra cookies baked, cookies dropped, cookies left
extra(15).
dropped(5).
final(110).

solve(X) :-
    extra(E), dropped(D), final(F),
    {2 * X + E - D = F}.
