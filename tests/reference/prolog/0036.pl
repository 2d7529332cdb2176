% yogurts per day, pack size, pack price, days
per_day(2).
pack_size(4).
pack_price(5.00).
days(30).

solve(X) :-
    per_day(N), days(D), pack_size(S), pack_price(P),
    Yogurts is N * D,
    Packs is Yogurts / S,
    X is Packs * P.
