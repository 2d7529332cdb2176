% first bag count, extra in second bag
first_bag(300).
second_extra(12).

bags([A, B, C]) :-
    first_bag(A), second_extra(E),
    B is A + E,
    C is A / 2.

solve(X) :-
    bags(Bs),
    sum_list(Bs, X).
