/*  guard_check.pl -- classify programs with interpreters/prolog/guard.pl, outside the harness.

    swipl tests/hostile/guard_check.pl GUARD CODE-FILE QUERY [CODE-FILE QUERY ...]

    Loads each program the way harness.pl does (a temporary module based on system, clpq
    imported, guarded_load/3) and checks its query with guard_goal/1, without running the query.
    Prints one line per program on stderr: `@@ safe` or `@@ refused: MESSAGE` (a load error
    counts as refused); what programs print themselves (initialization goals) goes elsewhere.
*/
:- initialization(main, main).

:- thread_local load_error/1.

:- multifile user:message_hook/3.
user:message_hook(Term, error, _) :-
    nb_current(lowres_checking, true),
    assertz(load_error(Term)).

main :-
    current_prolog_flag(argv, [Guard|Pairs]),
    use_module(Guard),
    check_all(Pairs).

check_all([CodeFile, Query|Rest]) :- !, check(CodeFile, Query), check_all(Rest).
check_all([]).

check(CodeFile, QueryText) :-
    retractall(load_error(_)),
    read_file_to_string(CodeFile, Code, [encoding(utf8)]),
    term_string(Goal, QueryText),
    catch(in_temporary_module(M, prepare(M), load_and_check(M, Code, Goal)), E, true),
    (   nonvar(E)
    ->  lowres_guard:safe_message_text(E, Text), report(refused(Text))
    ;   load_error(Term)
    ->  lowres_guard:safe_message_text(Term, Text), report(refused(Text))
    ;   report(safe)
    ).

prepare(M) :-
    set_module(M:base(system)),
    M:use_module(library(clpq)).

load_and_check(M, Code, Goal) :-
    setup_call_cleanup(
        ( open_string(Code, S), nb_setval(lowres_checking, true) ),
        lowres_guard:guarded_load(M, S, load_files(M:program, [stream(S), module(M), silent(true)])),
        ( nb_setval(lowres_checking, false), close(S) )),
    (   load_error(_)
    ->  true
    ;   lowres_guard:guard_goal(M:Goal)
    ).

report(safe) :- format(user_error, "@@ safe~n", []).
report(refused(Text)) :-
    split_string(Text, "\n", " \t", [First|_]),
    format(user_error, "@@ refused: ~s~n", [First]).
