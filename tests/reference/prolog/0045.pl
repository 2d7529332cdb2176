:- use_module(library(clpq)).

% hours per article and articles written on Monday
hours_per_article(4).
monday(5).

solve(X) :-
    hours_per_article(H), monday(Mon),
    {Tue = Mon + 2/5 * Mon},
    {Wed = 2 * Tue},
    {X = H * (Mon + Tue + Wed)}.
