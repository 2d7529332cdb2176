% pennies in cup, fraction taken, pennies per dollar
pennies(9300).
fraction(2, 3).
per_dollar(100).

solve(X) :-
    pennies(P), fraction(N, D), per_dollar(C),
    Stack is P * N / D,
    X is Stack / C.
