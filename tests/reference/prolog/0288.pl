% stone weight, truck capacity, number of stones
stone_weight(75).
capacity(2000).
stones(80).

solve(X) :-
    stone_weight(W), capacity(C), stones(N),
    Total is W * N,
    X is ceiling(Total / C).
