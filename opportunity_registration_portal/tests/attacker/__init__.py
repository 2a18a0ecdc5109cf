"""The model-based attacker's parts (tests/test_attacker.py runs them).

* ``people`` -- who attacks (THREATS.md), their logins, and the documents
  each victim owns, marked so that a leak can be recognised in any reply;
* ``values`` -- what an attacker types: Hypothesis strategies per field type,
  hostile values included;
* ``channels`` -- XML-RPC, JSON-RPC and portal HTTP, and which errors are
  clean refusals;
* ``invariants`` -- SPEC section 9 read from the database after every step.
"""
