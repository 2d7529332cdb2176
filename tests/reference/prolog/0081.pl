% sticker changes: start, bought, birthday, given away, used
change(10).
change(21).
change(23).
change(-9).
change(-28).

solve(X) :-
    findall(C, change(C), Cs),
    foldl([C, A0, A]>>(A is A0 + C), Cs, 0, X).
