:- use_module(library(clpq)).

% amount borrowed, interest percent, monthly payment, months paid
borrowed(2000).
interest(10).
payment(165).
months(12).

solve(X) :-
    borrowed(B), interest(I), payment(P), months(M),
    {Owed = B * (1 + I/100)},
    {X = Owed - P * M}.
