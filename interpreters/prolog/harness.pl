/*  harness.pl -- runs one model-written program inside a sandbox worker (through pyswip).

    lowres_run(+Code, +QueryText, +Milliseconds, +Inferences, -Json)

    Code and QueryText are strings, handed over as terms (never spliced into goal text). Loads the
    code into a fresh temporary module (nothing leaks into the next program), then calls the query
    there with a wall-time limit and an inference limit, and answers with one JSON string:
    {"status": ..., "answer": ..., "error": ..., "error_type": ..., "warnings": [...]}, where
    error_type names the error (the functor of an ISO error's formal term: existence_error,
    type_error, ...; see error_type/2). It never throws and never halts:
    halt/0,1 are redefined in the program's module to throw, and loading messages (syntax errors,
    singleton warnings) are captured through message_hook/3 instead of being printed. What is
    global rather than the module's own and a program may still change — the Prolog flags
    library(sandbox) lets it set (prefer_rationals, float_rounding, occurs_check, ...) and the
    stack limit — is put back after every program (restore_flags/0), and loading is restricted
    to named libraries while a program runs (guard.pl, guarded_run/2).
*/
:- module(lowres_harness, [lowres_run/5]).
:- use_module(library(time)).
:- use_module(library(http/json)).
:- use_module(library(clpq)).
:- use_module(guard).

:- set_prolog_flag(stack_limit, 268435456).

:- dynamic captured/2.
:- thread_local capturing/0.

:- multifile user:message_hook/3.
user:message_hook(Term, Kind, Lines) :-
    capturing,
    memberchk(Kind, [error, warning]),
    safe_message_lines(Term, Lines, Text),
    assertz(captured(Kind, Term-Text)).

lowres_run(Code, QueryText, Milliseconds, Inferences, Json) :-
    retractall(captured(_, _)),
    Seconds is Milliseconds / 1000,
    catch(run(Code, QueryText, Seconds, Inferences, Result), E, crash_result(E, Result)),
    restore_flags,
    findall(W, captured(warning, _-W), Warnings),
    catch(flush_output(user_output), _, true),
    result_json(Result, Warnings, Json).

crash_result(E, result(runtime_error, '', Msg, Type)) :- message_text(E, Msg), error_type(E, Type).

run(Code, QueryText, Seconds, Inferences, Result) :-
    (   catch(term_string(Goal, QueryText, [variable_names(Bindings)]), E, true)
    ->  (   nonvar(E)
        ->  message_text(E, Msg), error_type(E, Type), Result = result(syntax_error, '', Msg, Type)
        ;   callable(Goal)
        ->  in_temporary_module(M, prepare(M),
                                guarded_run(M, lowres_harness:load_and_query(M, Code, Goal, Bindings, Seconds, Inferences, Result)))
        ;   Result = result(syntax_error, '', 'the query is not a callable goal', '')
        )
    ;   Result = result(syntax_error, '', 'empty query', '')
    ).

%   The program's module: it inherits from `system`, not `user` (so nothing a program asserts
%   into user is seen by the next one), clpq available as if imported, halt neutralised. The
%   redefinition of halt must be the module's own: a system predicate is found before any
%   inherited definition.
prepare(M) :-
    set_module(M:base(system)),
    M:use_module(library(clpq)),
    forall(member(Head, [halt, halt(_)]),
           ( M:redefine_system_predicate(Head),
             M:assertz((Head :- throw(error(permission_error(call, halt, program), _)))) )).

load_and_query(M, Code, Goal, Bindings, Seconds, Inferences, Result) :-
    limited(Seconds, Inferences, load_code(M, Code), LoadOutcome),
    (   LoadOutcome \== true
    ->  outcome_result(LoadOutcome, Result)
    ;   captured(error, Term-Text)
    ->  load_error_status(Term, Status), loading_error_type(Term, Type), Result = result(Status, '', Text, Type)
    ;   limited(Seconds, Inferences, (guard_goal(M:Goal), M:Goal), Outcome),
        query_result(Outcome, Bindings, Result)
    ).

load_code(M, Code) :-
    setup_call_cleanup(
        ( open_string(Code, S), assertz(capturing) ),
        guarded_load(M, S, load_files(M:program, [stream(S), module(M), silent(true)])),
        ( retractall(capturing), close(S) )).

%   limited(+Seconds, +Inferences, :Goal, -Outcome): Outcome is true, false, or error(E).
limited(Seconds, Inferences, Goal, Outcome) :-
    catch(( call_with_time_limit(Seconds,
                call_with_inference_limit(Goal, Inferences, R))
          -> ( R == inference_limit_exceeded -> Outcome = error(inference_limit_exceeded) ; Outcome = true )
          ;  Outcome = false ),
          E, Outcome = error(E)).

load_error_status(error(syntax_error(_), _), syntax_error) :- !.
load_error_status(_, runtime_error).

outcome_result(false, result(runtime_error, '', 'loading the code failed', '')).
outcome_result(error(E), result(Status, '', Msg, Type)) :-
    error_status(E, Status), message_text(E, Msg), error_type(E, Type).

query_result(true, Bindings, Result) :- !, answer_result(Bindings, Result).
query_result(false, _, result(no_answer, '', 'the query failed', '')) :- !.
query_result(Outcome, _, Result) :- outcome_result(Outcome, Result).

error_status(time_limit_exceeded, timeout) :- !.
error_status(inference_limit_exceeded, timeout) :- !.
error_status(error(resource_error(_), _), memory) :- !.
error_status(error(syntax_error(_), _), syntax_error) :- !.
error_status(_, runtime_error).

%   error_type(+Exception, -Type): the functor of an ISO error's formal term (error(type_error(_,
%   _), _) -> type_error), the limits' own atoms (time_limit_exceeded, inference_limit_exceeded);
%   anything else a program threw is an unhandled_exception (its name is the program's choice,
%   not a kind of error). A message SWI-Prolog printed while loading is named by its functor.
error_type(error(Formal, _), Type) :- !, ( callable(Formal) -> functor(Formal, Type, _) ; Type = error ).
error_type(E, E) :- memberchk(E, [time_limit_exceeded, inference_limit_exceeded]), !.
error_type(_, unhandled_exception).

loading_error_type(error(Formal, Context), Type) :- !, error_type(error(Formal, Context), Type).
loading_error_type(Message, Type) :- ( callable(Message) -> functor(Message, Type, _) ; Type = unknown ).

%   The answer: the first numeric binding of the query's variables, else the first bound one
%   (a non-number such as `3*4` or an atom, which the grader scores as not numeric).
answer_result(Bindings, result(ok, Answer, '', '')) :-
    member(_=V, Bindings), number(V), !, number_text(V, Answer).
answer_result(Bindings, result(ok, Answer, '', '')) :-
    member(_=V, Bindings), nonvar(V), !, format(atom(Answer), '~q', [V]).
answer_result(_, result(no_answer, '', 'the query succeeded without binding a value', '')).

number_text(V, Text) :- rational(V), \+ integer(V), !, F is float(V), format(atom(Text), '~w', [F]).
number_text(V, Text) :- format(atom(Text), '~w', [V]).

message_text(time_limit_exceeded, 'time limit exceeded') :- !.
message_text(inference_limit_exceeded, 'inference limit exceeded') :- !.
message_text(E, Text) :- safe_message_text(E, Text).

%   Global flags a program may set (library(sandbox)'s safe_prolog_flag/2: prefer_rationals,
%   float_rounding, occurs_check, max_rational_size, ...) and the stack limit (set_prolog_stack/2
%   lowers it): saved once the harness is loaded, put back after every program, so that none
%   outlives the program that set it.
:- dynamic saved_flag/2.

save_flags :-
    retractall(saved_flag(_, _)),
    forall(( restored_flag(Flag), flag_value(Flag, Value) ),
           assertz(saved_flag(Flag, Value))).

%   A size limit that is unset (max_rational_size, max_table_answer_size, ...: no limit) is set
%   to one no program reaches, so that it has a value to be put back to.
flag_value(Flag, Value) :- current_prolog_flag(Flag, Value), !.
flag_value(Flag, Value) :-
    Value = 4611686018427387903,
    catch(set_prolog_flag(Flag, Value), _, fail).

restored_flag(stack_limit).
restored_flag(Flag) :- catch(sandbox:safe_prolog_flag(Flag, _), _, fail).

restore_flags :-
    forall(saved_flag(Flag, Value),
           (   current_prolog_flag(Flag, Value)
           ->  true
           ;   catch(set_prolog_flag(Flag, Value), _, true)
           )).

result_json(result(Status, Answer, Error, Type), Warnings, Json) :-
    with_output_to(string(Json),
        json_write_dict(current_output,
                        _{status: Status, answer: Answer, error: Error, error_type: Type, warnings: Warnings},
                        [width(0)])).

:- save_flags.
