% ticket cost, food discount relative to tickets, rides, ride price, friends
tickets(20.25).
food_less(4.50).
rides(2).
ride_price(33).
friends(3).

total_cost(T) :-
    tickets(Tk), food_less(FL), rides(R), ride_price(RP),
    Food is Tk - FL,
    T is Tk + Food + R * RP.

solve(X) :-
    total_cost(T), friends(F),
    X is T / F.
