% adopted kittens, multiplier for the first cat, kittens of the second cat
adopted(7).
first_cat_factor(3).
second_cat(12).

solve(X) :-
    adopted(A), first_cat_factor(F), second_cat(S),
    First is F * A,
    X is A + First + S.
