% eggs per omelet, days per week, weeks, eggs per dozen
eggs_per_day(3).
days_per_week(7).
weeks(4).
dozen(12).

solve(X) :-
    eggs_per_day(E), days_per_week(D), weeks(W), dozen(Z),
    Total is E * D * W,
    X is Total / Z.
