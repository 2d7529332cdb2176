%   Loaded by tests/test_neighbours.py through library('../../..'): a file outside SWI's library
%   whose directive would run outside guard.pl's checks, if the path were accepted.
:- module(lowres_escape, []).
:- nb_setval(lowres_escaped, 666).
