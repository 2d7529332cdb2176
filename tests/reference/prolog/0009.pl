% regular hours, hourly rate, overtime multiplier, hours worked
regular_hours(40).
rate(10).
overtime_factor(1.2).
worked(45).

regular_pay(Pay) :-
    regular_hours(H), rate(R),
    Pay is H * R.

overtime_pay(Pay) :-
    worked(W), regular_hours(H), rate(R), overtime_factor(F),
    Extra is W - H,
    Pay is Extra * R * F.

solve(X) :-
    regular_pay(A),
    overtime_pay(B),
    X is A + B.
