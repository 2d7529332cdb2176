% starting cards, first month multiplier, second month shortfall
initial(20).
first_factor(3).
second_less(20).

solve(X) :-
    initial(I), first_factor(F), second_less(L),
    M1 is F * I,
    M2 is M1 - L,
    M3 is 2 * (M1 + M2),
    X is I + M1 + M2 + M3.
