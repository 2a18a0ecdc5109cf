"""A working day on two Odoo servers under faults: nothing may be lost.

    .venv/bin/python benchmarks/soak.py --db DB --minutes 10 \\
        --pg-port 5433 --pg-restart "pg_ctlcluster 15 soak restart"

(``benchmarks/soak.py`` runs this package's ``cli.main``.)

Against a database that has opportunity_registration installed, this script:

1. starts two Odoo servers on 127.0.0.1 (free ports, or ``--http-ports`` /
   ``--gevent-ports``, by default from ``SOAK_HTTP_PORTS`` /
   ``SOAK_GEVENT_PORTS``, e.g. ``8097,8098``): one with
   ``--workers=4`` that also runs the scheduled actions
   (``--max-cron-threads=1``; ``--cron-on threaded`` moves them to the other),
   one threaded; ``--pg-host`` / ``--pg-port`` point both (and this script's
   own checks) at the PostgreSQL cluster holding ``--db``;
2. prepares, over XML-RPC as admin, a sales team with its three approvers
   (team leader, deputy manager, branch manager), a registration manager and
   ``--reps`` salespersons, each rep already holding a few customers, a
   channel manager and ``--portals`` portal users of two partner companies; the
   expiry, warning and escalation jobs are set to run every minute, and every
   minute the clock moves for a few registrations (a lock whose protection
   ended, a review waiting for days) so that the jobs have work;
3. runs one client process per user over JSON-RPC (web sessions, as the
   browser calls the server) for ``--minutes``, seeded: reps create and submit
   opportunities (a share for customers someone already holds, typed in the
   different ways a customer can be entered), change amounts and customers,
   log follow-ups, withdraw, release, claim from the public pool, win and
   lose; approvers approve and reject; the manager arbitrates and transfers;
   the channel manager reviews the partners' deals first; portal users log in
   over HTTP (a web session, the CSRF token of the form) and register deals on
   ``/my/registrations/new`` (a share for customers someone holds), open their
   list and their deals: a refusal must be the form again with its errors or a
   4xx answer, never a server error, and never tell who holds the customer;
4. injects faults, each at a random moment: SIGKILL of a worker of the
   prefork server in the middle of a request, a full restart of one server,
   ``pg_terminate_backend`` of every server connection, and, with
   ``--pg-restart``, a restart of PostgreSQL itself. Clients retry what failed
   as a real client does (re-send; creations are found by their unique name
   first, a partner's deal by its unique contact in the partner's own list,
   so a retried request never duplicates; a transition refused after
   an unanswered attempt counts as done when its outcome is there);
5. samples the invariants in SQL every second in one snapshot (never two
   active registrations for one customer key and scope; every registration's
   state explained by its lock history and mirrored on its opportunity; no
   approval by someone outside the registration's approvers), and at the end
   checks the client-side ledger against the database (every opportunity
   created is there, once; every deal a partner was told was registered is
   there, once; every acknowledged transition is in the lock history), every
   refusal is a ``UserError`` (on the portal: the form with its errors or a
   4xx), neither server logged a
   traceback but the injected faults' connection errors, the scheduled jobs
   still run after the last fault, and each server answered again within
   ``--recovery-limit`` seconds of its fault;
6. stops its servers (only the processes it started), prints the report
   (``--results FILE`` appends it to a Markdown file) and exits with 0 when
   every check passed, 1 otherwise.

The modules: ``cli`` (arguments and the run's order), ``prepare`` (users, a
team, held customers, the clock that makes the scheduled jobs' work),
``roles`` (what each user does, on ``rpc.JsonRpc``), ``faults`` (their
injection and each server's recovery), ``invariants`` (the SQL checks, every
second and at the end) and ``report`` (the Markdown report and the verdict);
``benchmarks/soak.py`` runs ``cli.main``.
"""
