"""The faults, each injected once at a random moment of the run: SIGKILL of a
prefork worker in the middle of a request, a full restart of one server,
``pg_terminate_backend`` of every server connection, a restart of PostgreSQL;
then the time each affected server takes to answer again."""

import contextlib
import os
import shlex
import signal
import subprocess
import time

from _common import say
from rpc import ADMIN_LOGIN, ADMIN_PASSWORD, JsonRpc

from .shared import MONITOR_APP


class Faults:
    """Inject each fault once at a random moment and time each server's recovery."""

    def __init__(self, args, servers, pg, rng):
        self.args = args
        self.servers = servers
        self.pg = pg
        self.rng = rng
        self.done = []

    def plan(self, start, duration):
        kinds = list(self.args.faults)
        self.rng.shuffle(kinds)
        slots = len(kinds)
        window = (0.15 * duration, 0.8 * duration)
        width = (window[1] - window[0]) / max(1, slots)
        return [
            (start + window[0] + i * width + self.rng.uniform(0, width * 0.5), kind)
            for i, kind in enumerate(kinds)
        ]

    def run(self, start, duration, stop):
        for at, kind in self.plan(start, duration):
            if stop.wait(max(0, at - time.time())):
                return
            try:
                fault = getattr(self, kind)()
            except Exception as error:
                fault = {"kind": kind, "error": "%s: %s" % (type(error).__name__, error)}
                say("fault %s could not be injected: %s" % (kind, fault["error"]))
            fault.setdefault("kind", kind)
            fault.setdefault("at", time.time())
            self.recover(fault)
            self.done.append(fault)

    def recover(self, fault):
        """Seconds until each affected server answers a database request again,
        the servers watched side by side. A server whose process exited (Odoo's
        prefork master gives up when PostgreSQL refuses its periodic registry
        check) is started again, as its service manager would, and said so."""
        fault["recovery"] = {}
        waiting = list(fault.get("servers", []))
        deadline = time.monotonic() + self.args.recovery_limit + 30
        while waiting and time.monotonic() < deadline:
            for server in list(waiting):
                if server.process.poll() is not None:
                    code = server.process.returncode
                    say(
                        "server %s exited (code %s) after %s: started again"
                        % (server.label, code, fault["kind"])
                    )
                    fault.setdefault("exited", []).append("%s (exit %s)" % (server.label, code))
                    server.start()
                    continue
                with contextlib.suppress(Exception):
                    rpc = JsonRpc(server.url(""), self.args.db, 5)
                    rpc.login(ADMIN_LOGIN, ADMIN_PASSWORD)
                    rpc.call("crm.lead.registration", "search_count", [])
                    fault["recovery"][server.label] = time.time() - fault["at"]
                    waiting.remove(server)
            time.sleep(0.25)
        for server in waiting:
            fault["recovery"][server.label] = None
        fault["end"] = time.time()
        say(
            "fault %s (%s): recovered %s"
            % (fault["kind"], fault.get("target", ""), fault["recovery"])
        )

    def kill_worker(self):
        """SIGKILL one worker of the prefork server in the middle of a request
        (its transaction open) when one is caught within a few seconds."""
        server = self.servers[0]
        workers = [pid for pid in server.children() if b"\0gevent\0" not in read_cmdline(pid)]
        if not workers:
            raise RuntimeError("no worker to kill")
        busy = []
        deadline = time.monotonic() + 5
        with self.pg.cursor() as cr:
            while not busy and time.monotonic() < deadline:
                cr.execute(
                    "SELECT client_port FROM pg_stat_activity WHERE datname = %s"
                    " AND state IN ('active', 'idle in transaction')",
                    [self.args.db],
                )
                ports = {port for (port,) in cr.fetchall()}
                cr.connection.rollback()
                busy = [pid for pid in workers if local_ports(pid) & ports]
                if not busy:
                    time.sleep(0.02)
        pid = self.rng.choice(busy or workers)
        at = time.time()
        os.kill(pid, signal.SIGKILL)
        state = "in the middle of a request" if busy else "idle"
        say("fault: SIGKILL worker %d of %s (%s)" % (pid, server.label, state))
        return {
            "at": at,
            "servers": [server],
            "target": "worker %d of %s, %s" % (pid, server.label, state),
        }

    def restart_server(self):
        server = self.rng.choice(self.servers)
        at = time.time()
        say("fault: restarting server %s" % server.label)
        server.stop()
        stopped = time.time() - at
        server.start()
        return {
            "at": at,
            "servers": [server],
            "target": "server %s (stopped in %.1f s, then started)" % (server.label, stopped),
        }

    def terminate_connections(self):
        at = time.time()
        rows = self.pg.run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid() AND application_name <> %s",
            [self.args.db, MONITOR_APP],
        )
        say("fault: pg_terminate_backend on %d connections" % len(rows))
        return {"at": at, "servers": list(self.servers), "target": "%d connections" % len(rows)}

    def restart_postgresql(self):
        at = time.time()
        say("fault: %s" % self.args.pg_restart)
        subprocess.run(shlex.split(self.args.pg_restart), check=True, timeout=120)
        return {"at": at, "servers": list(self.servers), "target": self.args.pg_restart}


def local_ports(pid):
    """Local TCP ports of a process's sockets (its connections to PostgreSQL among them)."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            with contextlib.suppress(OSError):
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        ports = set()
        for table in ("tcp", "tcp6"):
            with open("/proc/%d/net/%s" % (pid, table)) as handle:
                for line in handle.readlines()[1:]:
                    fields = line.split()
                    if fields[9] in inodes:
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        return ports
    except OSError:
        return set()


def read_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read()
    except OSError:
        return b""
