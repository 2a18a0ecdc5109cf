"""The run read back: the clients' journals, the samples, the servers' logs;
the report (requests by kind before, during and after the faults, errors,
faults and recovery, invariants, ledger, jobs, server logs), the failures
that make the verdict, and the Markdown section."""

import collections
import dataclasses
import datetime
import json
import os
import re

from _common import report
from rpc import TRANSIENT

ANSWERED = ("ok", "ok_retried", "refused")
PHASES = ("before", "during", "after")


def percentile(values, share):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(share * (len(values) - 1))))]


def load_records(logdir):
    records = []
    for name in sorted(os.listdir(logdir)):
        if name.startswith("client-"):
            with open(os.path.join(logdir, name)) as handle:
                records.extend(json.loads(line) for line in handle if line.strip())
    return records


def load_samples(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def in_window(ts, faults, margin):
    return any(f["at"] - 1 <= ts <= f["end"] + margin for f in faults)


# ---------------------------------------------------------------------------
# The servers' logs
# ---------------------------------------------------------------------------


def log_time(head):
    try:
        return (
            datetime.datetime.strptime(head[:19], "%Y-%m-%d %H:%M:%S")
            .replace(tzinfo=datetime.UTC)
            .timestamp()
        )
    except ValueError:
        return 0


def classify(record, faults, margin):
    """``("explained", None)``, ``("refused", what)`` or ``("unexplained", None)``
    for one ERROR / CRITICAL record of a server log."""
    head = record.splitlines()[0]
    ts = log_time(head)
    if TRANSIENT.search(record) and in_window(ts, faults, margin):
        return "explained", None
    if " timed out" in head and any(f["at"] <= ts for f in faults):
        # Odoo's record of a job run a fault interrupted (it ran again next time)
        return "explained", None
    if " odoo.sql_db: bad query: " in head and "Traceback" not in record:
        error = re.search(r"^ERROR: +(.*)$", record, re.MULTILINE)
        detail = error.group(1) if error else head
        table = re.search(r'(?:INSERT INTO|UPDATE|FROM) "?(\w+)"?', record)
        return "refused", "%s (%s)" % (detail[:90], table.group(1) if table else "?")
    if (
        "ir_cron: Job '" in head
        and "Job 'Opportunity Registration" not in head
        and "SerializationFailure" in record
    ):
        # a stock job (e.g. the mail queue) that met a concurrent update:
        # Odoo runs it again at its next run; the module's own jobs must not
        job = re.search(r"Job '([^']+)'", head).group(1)
        return "refused", "stock job %s, run again by Odoo: serialization failure" % job
    return "unexplained", None


def analyse_logs(servers, faults, margin):
    """Server log errors: the injected faults' connection errors, statements
    PostgreSQL refused (Odoo logs each before retrying or answering it as a
    ``ValidationError``), or unexplained (tracebacks and the rest)."""
    explained, refused, unexplained = collections.Counter(), collections.Counter(), []
    for server in servers:
        for record in server.log_records():
            head = record.splitlines()[0]
            if " ERROR " not in head and " CRITICAL " not in head:
                continue
            verdict, what = classify(record, faults, margin)
            if verdict == "explained":
                explained[server.label] += 1
            elif verdict == "refused":
                refused[what] += 1
            else:
                unexplained.append("%s: %s" % (server.label, record[:1500]))
        try:
            with open(server.log + ".stderr", errors="replace") as handle:
                stderr = handle.read()
        except OSError:
            stderr = ""
        # "Exception in thread X:" heads its traceback; a bare traceback stands alone
        for chunk in re.split(r"\n(?=Exception in thread|(?<!:\n)Traceback)", "\n" + stderr)[1:]:
            unexplained.append("%s (stderr): %s" % (server.label, chunk.strip()[-1500:]))
    return explained, refused, unexplained


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """What the run left to judge."""

    records: list  # the clients' journals
    samples: list  # the invariant samples
    faults: list  # the faults injected
    start: float
    end: float
    clients: int
    final: list  # the final sweep's violations
    ledger: str  # the ledger's summary
    crons: dict  # runs of each job during the soak
    crons_late: dict  # and after the last fault
    logs: tuple  # analyse_logs()


class Phases:
    """Before the first fault, during one (with a margin), or after."""

    def __init__(self, faults, end):
        self.faults = faults
        self.first = min((f["at"] for f in faults), default=end)

    def __call__(self, ts):
        if ts < self.first:
            return "before"
        return "during" if in_window(ts, self.faults, 10) else "after"


def build_report(outcome):
    """The report's lines and the violations the samples found."""
    requests = [r for r in outcome.records if r["kind"] not in ("ledger", "client")]
    lines = throughput(outcome, requests)
    lines += request_table(requests, Phases(outcome.faults, outcome.end))
    errors = collections.Counter()
    for r in requests:
        if r["outcome"] not in ("ok", "ok_retried"):
            name = (r.get("error") or "").split(":")[0][:60]
            errors[(r["outcome"], name)] += 1
    lines += ["", "errors by kind:"]
    lines += ["  %5d x %s %s" % (n, outcome, name) for (outcome, name), n in errors.most_common(12)]
    lines += fault_table(outcome.faults, outcome.start)
    taken = [s for s in outcome.samples if "violations" in s]
    violations = [v for s in taken for v in s["violations"]]
    lines += [
        "",
        "invariant samples: %d taken (one snapshot each, %.0f ms median), %d missed while "
        "PostgreSQL was unreachable, %d violations"
        % (
            len(taken),
            percentile([s["ms"] for s in taken], 0.5) or 0,
            len(outcome.samples) - len(taken),
            len(violations),
        ),
    ]
    lines += ["  " + v for v in sorted(set(violations))[:10]]
    lines += summary(outcome)
    return lines, violations


def throughput(outcome, requests):
    phase = Phases(outcome.faults, outcome.end)
    seconds = outcome.end - outcome.start
    spans = collections.Counter(phase(s) for s in range(int(outcome.start), int(outcome.end)))
    answered = [r for r in requests if r["outcome"] in ANSWERED]
    answered_by = collections.Counter(phase(r["t"]) for r in answered)
    return [
        "throughput (answered requests per second): "
        + ", ".join(
            "%s %.1f"
            % (name if name != "during" else "during faults", answered_by[name] / spans[name])
            for name in PHASES
            if spans[name]
        ),
        "duration %.0f s, %d requests (%d answered: %.1f/s), %d client processes, %d faults"
        % (
            seconds,
            len(requests),
            len(answered),
            len(answered) / seconds,
            outcome.clients,
            len(outcome.faults),
        ),
        "",
        "| request | sent | ok | refused (UserError) | re-sent | p50/p95/p99 ms before | during faults | after |",
        "|---|---|---|---|---|---|---|---|",
    ]


def request_table(requests, phase):
    kinds = collections.defaultdict(list)
    for r in requests:
        kinds[r["kind"]].append(r)
    lines = []
    for kind in sorted(kinds, key=lambda k: -len(kinds[k])):
        rows = kinds[kind]
        outcomes = collections.Counter(r["outcome"] for r in rows)
        cells = []
        for name in PHASES:
            ms = [
                1000 * (r["end"] - r["t"])
                for r in rows
                if r["outcome"] in ("ok", "refused") and phase(r["t"]) == name
            ]
            cells.append(
                "/".join("%.0f" % percentile(ms, q) for q in (0.5, 0.95, 0.99)) if ms else "-"
            )
        lines.append(
            "| %s | %d | %d | %d | %d | %s |"
            % (
                kind,
                len(rows),
                outcomes["ok"] + outcomes["ok_retried"],
                outcomes["refused"],
                outcomes["transient"],
                " | ".join(cells),
            )
        )
    return lines


def fault_table(faults, start):
    lines = ["", "| fault | at (s) | target | recovery (s) |", "|---|---|---|---|"]
    for f in faults:
        target = f.get("target") or f.get("error")
        if f.get("exited"):
            target += "; exited, started again: %s" % ", ".join(f["exited"])
        recovery = ", ".join(
            "%s %s" % (label, "%.1f" % s if s is not None else "NO ANSWER")
            for label, s in f.get("recovery", {}).items()
        )
        lines.append("| %s | %.0f | %s | %s |" % (f["kind"], f["at"] - start, target, recovery))
    return lines


def summary(outcome):
    """The final sweep, the ledger, the jobs and the server logs."""
    explained, refused, unexplained = outcome.logs
    lines = [
        "final sweep over every registration written during the run: %d violations"
        % len(outcome.final),
        "ledger: " + outcome.ledger,
        "scheduled jobs run during the soak (expiry, warning, escalation): %s" % outcome.crons
        + ", after the last fault: %s" % outcome.crons_late,
        "server log: %d connection errors and interrupted jobs from the injected faults %s, %d statements "
        "refused by PostgreSQL and logged by Odoo (retried, or answered as ValidationError), "
        "%d other errors (tracebacks)"
        % (sum(explained.values()), dict(explained), sum(refused.values()), len(unexplained)),
    ]
    lines += ["  %4d x %s" % (n, what) for what, n in refused.most_common(8)]
    lines += ["  " + u.splitlines()[0][:300] for u in unexplained[:5]]
    return lines


# ---------------------------------------------------------------------------
# The verdict
# ---------------------------------------------------------------------------


def failures_of(args, outcome, violations):
    """What fails the run, besides the ledger's own failures."""
    failures = []
    if violations or outcome.final:
        failures.append("%d invariant violations" % (len(violations) + len(outcome.final)))
        failures += ["  " + v for v in sorted(set(outcome.final))[:10]]
    records, faults = outcome.records, outcome.faults
    bad = [r for r in records if r["outcome"] in ("application_error", "client_error", "gave_up")]
    late = [
        r for r in records if r["outcome"] == "transient" and not in_window(r["end"], faults, 20)
    ]
    for r in bad[:5] + late[:5]:
        failures.append(
            "%s %s on %s: %s"
            % (r["outcome"], r["kind"], r["server"], (r.get("error") or "")[-500:])
        )
    if len(bad) + len(late) > 10:
        failures.append("... %d unexplained errors in all" % (len(bad) + len(late)))
    unexplained = outcome.logs[2]
    if unexplained:
        failures.append("%d unexplained errors in the server logs" % len(unexplained))
        failures += ["  " + u[:1200] for u in unexplained[:3]]
    for fault in faults:
        if fault.get("error"):
            failures.append("fault %s not injected: %s" % (fault["kind"], fault["error"]))
        for label, seconds in fault.get("recovery", {}).items():
            if seconds is None or seconds > args.recovery_limit:
                failures.append(
                    "%s did not answer within %.0f s after %s"
                    % (label, args.recovery_limit, fault["kind"])
                )
    missing = set(args.faults) - {f["kind"] for f in faults}
    if missing:
        failures.append("faults not injected: %s" % ", ".join(sorted(missing)))
    return failures


def publish(args, lines, failures):
    """Print the report (and append it to ``--results``); the verdict."""
    verdict = "PASS" if not failures else "FAIL"
    heading = [
        "",
        "## Soak (`benchmarks/soak.py --minutes %g`): %s" % (args.minutes, verdict),
        "",
        "Two Odoo servers (one `--workers=%d`, one threaded; the scheduled jobs every minute on "
        "the %s one) "
        "on %s (PostgreSQL %s:%d), %d reps, 3 approvers, a manager and a channel manager over "
        "JSON-RPC, %d portal users over HTTP, faults: %s. %s"
        % (
            args.workers,
            "prefork" if args.cron_on == "workers" else "threaded",
            args.label or args.db,
            args.pg_host,
            args.pg_port,
            args.reps,
            args.portals,
            ", ".join(args.faults),
            datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ),
        "",
    ]
    body = lines + (["", "failures:"] + ["  - " + f for f in failures] if failures else [])
    report(heading + ["```"] + body + ["```", ""], args.results)
    return verdict
