% query: total_kills(X).
% animals killed last night and today's relationships
night(wolves, 10).
night(cougars, 15).
fewer_cougars(3).
wolf_factor(3).

today(Wolves, Cougars) :-
    night(cougars, C0), fewer_cougars(F), wolf_factor(W),
    Cougars is C0 - F,
    Wolves is W * Cougars.

total_kills(X) :-
    night(wolves, W0), night(cougars, C0),
    today(W1, C1),
    X is W0 + C0 + W1 + C1.
