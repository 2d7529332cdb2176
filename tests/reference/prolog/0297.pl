% weekly target and crates sold on open days
target(120).
sold(weekend, 20).
sold(tuesday, 15).
sold(wednesday, 12).
sold(thursday, 18).

solve(X) :-
    target(T),
    aggregate_all(sum(N), sold(_, N), S),
    X is T - S.
