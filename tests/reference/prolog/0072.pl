% query: money_raised(X).
% price per slice and slices sold for each item
item(brownie, 3, 43).
item(cheesecake, 4, 23).

item_income(Name, Income) :-
    item(Name, Price, Count),
    Income is Price * Count.

money_raised(X) :-
    findall(I, item_income(_, I), Incomes),
    sum_list(Incomes, X).
