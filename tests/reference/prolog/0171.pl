% query: total_legs(X).
% kind of creature: count and legs each
creature(spider, 80, 8).
creature(insect, 90, 6).
creature(mutant, 3, 10).

legs_of(Kind, L) :-
    creature(Kind, N, Each),
    L is N * Each.

total_legs(X) :-
    aggregate_all(sum(L), legs_of(_, L), X).
