/*  guard.pl -- what a model-written Prolog program may call, checked before it runs.

    Loaded by harness.pl (`:- use_module(guard).`). The checks use library(sandbox)'s analysis
    (safe_goal/1 follows the program's own predicates, meta-calls it can resolve, and library
    code), plus what that analysis does not cover:

    guarded_load(+M, +Stream, :Load)
        Runs Load (the load_files/2 of the program, read from Stream, into module M) with a
        term_expansion hook (in module system: the program's module does not import user) for
        the terms read from Stream:
        - a term holding the format directives ~@ or ~W anywhere is refused (they run code;
          library(sandbox) does not check ~W's portray_goal option);
        - every directive is checked with safe_goal/1 before it runs; declarations (dynamic/1,
          discontiguous/1, table/1, op/3 in the program's module, use_module(library(Name))
          for a Name of allowed_library/1, ...)
          are allowed as such; module/2 is dropped;
        - clauses that would define predicates in another module (user:message_hook/3, ...) or
          expansion hooks (term_expansion/2, goal_expansion/2, ...) are refused;
        - initialization/1,2 goals are kept aside and run, checked, once the load is done (SWI's
          own initialization list for the stream source `program` would run them again at every
          later program's load, in a module that no longer exists).
    guarded_run(+M, :Goal)
        Runs Goal (loading and querying the program of module M) with loading restricted: while
        it runs, a user:prolog_load_file/2 hook refuses every load that is not a named library
        of allowed_library/1 (clpq, lists, ...) or, for what the libraries and the autoloader
        load themselves, a file of SWI-Prolog's own library directory. So no spelling of a path
        (library('../..'), an absolute or relative file, consult/include/load_files/[F]) can
        load a file whose directives would run outside this guard.
    guard_goal(:Goal)
        True if Goal (the query, in the program's module) is safe; throws a permission or
        instantiation error naming the culprit otherwise. Call it just before the query.
    safe_message_text(+Error, -Text)  and  safe_message_lines(+Term, +Lines, -Text)
        Message text for a term the program may have built (a thrown exception, a message raised
        while loading): the normal translation when the term holds no format directive that runs
        code (~@, ~W), else the term written with writeq, depth-limited. (Lines are translated
        from Term by trusted code: only Term is checked.) A user:message_hook/3 here does the same
        for print_message/2 calls a program makes (library(sandbox) allows print_message/2).

    Refused (not exhaustive): shell/1,2, process_create/3, open/3,4, see/tell (any file I/O),
    halt/0,1, thread_create/3, fork/1, kill/2, getenv/2, setenv/2, tcp_connect/3 and sockets,
    consult/load_files/include and any load of a path or of a library not named in
    allowed_library/1, assert of clauses with bodies (facts in the program's own module are
    fine), call/N on goals the analysis cannot resolve, write_term/2,3, setting global variables
    (they would outlive the program in the worker), flags beyond library(sandbox)'s own list (those it allows, harness.pl puts back after
    each program).
    Allowed: arithmetic, clpq ({}/1, inf/sup, minimize/maximize), clpfd, lists, apply (maplist,
    foldl with known closures), yall lambdas, aggregate_all, findall/bagof/setof, between, DCGs,
    format/1,2,3 to the standard streams or atom(_)/string(_), write/print/writeq/nl/tab to the
    standard streams, string and atom built-ins, catch/throw, dynamic facts of the program's own
    module, reading global variables.

    The OS layer (lowres_rl.isolation) still contains whatever this misses.
*/
:- module(lowres_guard, [guarded_load/3, guarded_run/2, guard_goal/1, safe_message_text/2, safe_message_lines/3]).
:- use_module(library(sandbox)).
:- use_module(library(lists)).
:- use_module(library(terms), [term_size/2]).
:- use_module(library(occurs), [sub_term/2]).

:- meta_predicate guarded_load(+, +, 0), guarded_run(+, 0), guard_goal(:).

:- thread_local guarding/2, deferred/1, running/1.

%   Additions to library(sandbox)'s lists: output to the standard streams (library(sandbox)
%   itself allows only writeln/1 and format/1,2; pengines_io declares the rest for its own
%   redirected output; here fds 1 and 2 are the worker's capture files, and user:portray, which
%   print/1 consults, cannot be defined by a program).
:- multifile sandbox:safe_primitive/1, sandbox:safe_meta/2.
sandbox:safe_primitive(system:write(_)).
sandbox:safe_primitive(system:print(_)).
sandbox:safe_primitive(system:writeq(_)).
sandbox:safe_primitive(system:write_canonical(_)).
sandbox:safe_primitive(system:nl).
sandbox:safe_primitive(system:tab(_)).
sandbox:safe_primitive(system:put_char(_)).
sandbox:safe_primitive(system:flush_output).
sandbox:safe_primitive(system:write(S, _)) :- standard_stream(S).
sandbox:safe_primitive(system:print(S, _)) :- standard_stream(S).
sandbox:safe_primitive(system:writeq(S, _)) :- standard_stream(S).
sandbox:safe_primitive(system:nl(S)) :- standard_stream(S).
sandbox:safe_primitive(system:tab(S, _)) :- standard_stream(S).
sandbox:safe_primitive(system:put_char(S, _)) :- standard_stream(S).
sandbox:safe_primitive(system:flush_output(S)) :- standard_stream(S).
sandbox:safe_meta(system:format(Stream, Format, Args), Calls) :-
    standard_stream(Stream),
    sandbox:format_calls(Format, Args, Calls).

standard_stream(S) :- atom(S), memberchk(S, [user_output, user_error]).

%   A message whose term holds a format directive that runs code (print_message(error,
%   format("~@", [G])), which library(sandbox) lets through, or a thrown term) is printed as a
%   quoted term instead. Loaded before harness.pl's own hook, so it comes first.
:- multifile user:message_hook/3, prolog:message//1.
user:message_hook(Term, Kind, _) :-
    Term \= lowres_guard(_),
    \+ catch(translatable(Term), _, true),
    !,
    quoted(Term, Text),
    print_message(Kind, lowres_guard(Text)).

prolog:message(lowres_guard(Text)) --> ['~w'-[Text]].

guarded_load(M, Stream, Load) :-
    retractall(deferred(_)),
    setup_call_cleanup(asserta(guarding(M, Stream), Ref), Load, erase(Ref)),
    forall(retract(deferred(Goal)), ignore(checked(Goal))).

guard_goal(M:Goal) :-
    safe_goal(M:Goal).

%   checked(:Goal): an initialization goal, checked when it is about to run.
checked(M:Goal) :-
    safe_goal(M:Goal),
    call(M:Goal).

:- multifile system:term_expansion/2.
:- dynamic system:term_expansion/2.
system:term_expansion(Term, Expanded) :-
    guarding(M, Stream),
    prolog_load_context(stream, Stream),   % the program's own terms, not a library's
    prolog_load_context(module, M),
    nonvar(Term),
    (   sub_term(Sub, Term), runs_code(Sub)
    ->  throw(error(permission_error(use, format_directive, code_running_directive), _))
    ;   guard_term(Term, M, Expanded)
    ).

%   guard_term(+Term, +M, -Expanded): fails for a term that is fine as it is; throws for one that
%   is refused; Expanded replaces the others.
guard_term((:- Directive), M, Expanded) :- !, guard_directive(Directive, M, Expanded).
guard_term((?- Directive), M, Expanded) :- !, guard_directive(Directive, M, Expanded).
guard_term(Clause, M, _) :-
    clause_head(Clause, Head),
    refused_head(Head, M, Why),
    !,
    throw(error(permission_error(define, Why, Head), _)).

clause_head((Head :- _), Head) :- !.
clause_head((Head --> _), Head) :- !.
clause_head((Head => _), Head) :- !.
clause_head(Head, Head).

refused_head(Head, _, variable_head) :- var(Head), !.
refused_head(Q:_, M, other_module) :- Q \== M, !.
refused_head(_:Head, M, Why) :- !, refused_head(Head, M, Why).
refused_head((Head, _), M, Why) :- !, refused_head(Head, M, Why).   % pushback DCG heads
refused_head(Head, _, expansion_hook) :-
    callable(Head),
    functor(Head, Name, Arity),
    expansion_hook(Name, Arity).

expansion_hook(term_expansion, 2).
expansion_hook(term_expansion, 4).
expansion_hook(goal_expansion, 2).
expansion_hook(goal_expansion, 4).

guard_directive(Directive, _, _) :-
    var(Directive), !,
    throw(error(instantiation_error, _)).
guard_directive(module(_, _), _, []) :- !.          % the program stays in its own module
guard_directive(initialization(Goal), M, []) :- !, assertz(deferred(M:Goal)).
guard_directive(initialization(Goal, _), M, []) :- !, assertz(deferred(M:Goal)).
guard_directive(Directive, _, _) :-
    declaration(Directive), !,
    fail.                                            % allowed as it is
guard_directive(Directive, M, _) :-
    safe_goal(M:Directive),
    fail.                                            % safe: runs as it is (else safe_goal threw)

declaration(use_module(Spec)) :- library_spec(Spec).
declaration(use_module(Spec, Imports)) :- library_spec(Spec), local(Imports).
declaration(ensure_loaded(Spec)) :- library_spec(Spec).
declaration(Declaration) :-
    compound(Declaration),
    compound_name_arity(Declaration, Name, 1),
    memberchk(Name, [dynamic, discontiguous, table, meta_predicate, style_check]),
    local(Declaration).
declaration(op(Priority, Type, Names)) :- integer(Priority), atom(Type), local(Names).

library_spec(Spec) :- ground(Spec), Spec = library(Name), allowed_library(Name).

%   allowed_library(?Name): the libraries a program may load by name (what GSM8K programs use:
%   arithmetic, constraints, lists and their higher-order helpers). Nothing that reads files,
%   starts processes or changes global state.
allowed_library(Name) :-
    memberchk(Name, [clpq, clpr, clpfd, simplex, lists, apply, aggregate, yall, pairs, ordsets,
                     assoc, apply_macros, solution_sequences, strings, dicts, error, occurs, terms,
                     rbtrees, ugraphs, random, option, nb_set, sort, heaps, when, dif, debug,
                     dcg/basics, dcg/high_order]).

%   -- loading ---------------------------------------------------------------------------------

guarded_run(M, Goal) :-
    setup_call_cleanup(asserta(running(M), Ref), Goal, erase(Ref)).

:- multifile user:prolog_load_file/2.
user:prolog_load_file(Module:Spec, _) :-
    running(M),
    \+ allowed_load(M, Module, Spec),
    throw(error(permission_error(load, source_sink, Spec), _)).

%   allowed_load(+ProgramModule, +Module, +Spec): a named library into the program's module; a
%   file of the system library for the rest (autoloading, a library loading what it needs).
allowed_load(M, M, Spec) :- !,
    (   Spec = library(Name)
    ->  ground(Name), allowed_library(Name)
    ;   system_library_file(Spec)
    ).
allowed_load(_, _, Spec) :-
    system_library_file(Spec).

system_library_file(Spec) :-
    ground(Spec),
    catch(absolute_file_name(Spec, File, [file_type(prolog), access(read), file_errors(fail)]), _, fail),
    \+ sub_atom(File, _, _, _, '/../'),
    file_search_path(swi, Home),
    atom(Home),
    atomic_list_concat([Home, '/library/'], Library),
    sub_atom(File, 0, _, _, Library),
    !.

%   local(+Term): ground, and naming nothing in another module.
local(Term) :- ground(Term), \+ sub_term(_:_, Term).

%   -- messages --------------------------------------------------------------------------------

safe_message_text(Error, Text) :-
    (   translatable(Error),
        catch(translate(Error, Text0), _, fail)
    ->  Text = Text0
    ;   quoted(Error, Text)
    ).

safe_message_lines(Term, Lines, Text) :-
    (   translatable(Term),
        catch(with_output_to(string(Text0), print_message_lines(current_output, '', Lines)), _, fail)
    ->  Text = Text0
    ;   quoted(Term, Text)
    ).

translate(Error, Text) :-
    '$messages':translate_message(Error, Lines, []),
    with_output_to(string(Text), print_message_lines(current_output, '', Lines)).

%   translatable(+Term): small, acyclic, and without a format directive that calls code.
translatable(lowres_guard(Text)) :- string(Text), !.
translatable(Term) :-
    \+ cyclic_term(Term),
    term_size(Term, Size), Size < 100000,
    \+ ( sub_term(Sub, Term), runs_code(Sub) ).

runs_code(Text) :-
    ( atom(Text) ; string(Text) ), !,
    ( sub_string(Text, _, _, _, "~@") ; sub_string(Text, _, _, _, "~W") ), !.
runs_code(List) :-                     % a format string as codes or chars
    compound(List), List = [Tilde, Directive|_],
    atomic(Tilde), atomic(Directive),
    memberchk(Tilde, [0'~, '~']),
    memberchk(Directive, [0'@, 0'W, '@', 'W']).

quoted(Term, Text) :-
    format(string(Text), '~W', [Term, [quoted(true), max_depth(10), portray(false)]]).
