% servings per carton, cost per carton, days
servings_per_carton(15).
carton_cost(4.00).
days(60).

cartons_needed(C) :-
    days(D), servings_per_carton(S),
    C is D / S.

solve(X) :-
    cartons_needed(C),
    carton_cost(P),
    X is C * P.
