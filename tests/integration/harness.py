"""Integration test harness: drives the real switchd through the real API (switchctl)
with vmtraffic virtio-user "VMs".

CPU layout on the 2-core test machine: the switch's PMD on CPU 1, its control thread and
the traffic tool on CPU 0, so no two pollers share a core. Nothing needs hugepages: both
sides run with --no-huge (memfd), every DPDK process gets its own --file-prefix, and
none probes PCI.

Environment: VSWITCH_BUILD = the build directory (ctest sets it).
"""
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("VSWITCH_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
SWITCHD = os.path.join(BUILD, "ctl", "switchd")
SWITCHCTL = os.path.join(BUILD, "ctl", "switchctl")
VMTRAFFIC = os.path.join(BUILD, "tests", "tools", "vmtraffic")
PMD_CPU = int(os.environ.get("VSWITCH_TEST_PMD_CPU", "1"))
GEN_CPU = int(os.environ.get("VSWITCH_TEST_GEN_CPU", "0"))

_seq = [0]

# One integration test process at a time per machine: they pin pollers to the same CPUs.
_lock = open(os.environ.get("VSWITCH_TEST_LOCK", "/tmp/vswitch-integration.lock"), "w")
fcntl.flock(_lock, fcntl.LOCK_EX)


def unique(stem):
    _seq[0] += 1
    return "%s%d_%d" % (stem, os.getpid(), _seq[0])


class CtlError(Exception):
    def __init__(self, rc, stderr):
        super().__init__("switchctl failed (rc=%d): %s" % (rc, stderr.strip()))
        self.rc = rc
        self.stderr = stderr


class Switchd:
    """One switchd process with its own socket, state file and EAL prefix."""

    def __init__(self, workdir, db=True, pmd_cores=None, extra_args=()):
        self.dir = workdir
        self.sock = os.path.join(workdir, "switchd.sock")
        self.db = os.path.join(workdir, "state.db") if db else "none"
        self.prefix = unique("vswt")
        self.pmd_cores = pmd_cores or str(PMD_CPU)
        self.extra_args = list(extra_args)
        self.proc = None
        self.log_path = os.path.join(workdir, "switchd.log")
        self.starts = 0

    def start(self, timeout=30):
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write("---- start %d\n" % self.starts)
        log = open(self.log_path, "a")
        self._logf = log
        cmd = [SWITCHD, "--pmd-cores", self.pmd_cores, "--control-socket", self.sock,
               "--db", self.db,
               "--eal", "--no-huge -m 1024 --file-prefix %s --log-level=user1:info" % self.prefix,
               ] + self.extra_args
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("switchd exited rc=%s:\n%s" % (self.proc.returncode, self.log()))
            if os.path.exists(self.sock):
                try:
                    self.ctl("show")
                    return self
                except CtlError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("switchd not ready after %ss:\n%s" % (timeout, self.log()))

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ctl(self, *args, fmt=None, timeout=60):
        cmd = [SWITCHCTL, "--socket", self.sock]
        if fmt:
            cmd += ["--format", fmt]
        cmd += list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise CtlError(r.returncode, r.stderr)
        return r.stdout

    def json(self, *args):
        return json.loads(self.ctl(*args, fmt="json"))

    def ctl_fail(self, *args):
        """Runs a command that must be rejected; returns its stderr."""
        try:
            out = self.ctl(*args)
        except CtlError as e:
            return e.stderr
        raise AssertionError("switchctl %s should have failed but printed: %s" % (args, out))

    def port(self, name):
        for p in self.json("port-stats", name)["ports"]:
            if p["name"] == name:
                return p
        raise KeyError(name)

    def pmd(self):
        return self.json("pmd-stats")["pmds"]

    def drops(self, name):
        return {k: int(v) for k, v in self.port(name).get("drops", {}).items()}

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if not self.alive():
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._cleanup_runtime()
        if getattr(self, "_logf", None):
            self._logf.close()
            self._logf = None

    def kill(self):
        self.stop(signal.SIGKILL)

    def _cleanup_runtime(self):
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)


class Traffic:
    """A vmtraffic process playing one or more VMs."""

    def __init__(self, workdir, vms, actions, duration=None, wait_link=20, name=None,
                 cpu=None, mem=None):
        self.name = name or unique("vmt")
        self.report_path = os.path.join(workdir, self.name + ".json")
        self.log_path = os.path.join(workdir, self.name + ".log")
        self.cmd = [VMTRAFFIC, "--prefix", self.name, "--lcore-cpu",
                    str(GEN_CPU if cpu is None else cpu)]
        if mem:
            self.cmd += ["--mem", str(mem)]
        for v in vms:
            self.cmd += ["--vm", v]
        self.cmd += list(actions)
        if duration is not None:
            self.cmd += ["--duration", str(duration)]
        self.cmd += ["--wait-link", str(wait_link), "--report", self.report_path]
        self.proc = None

    def start(self, ready_timeout=30):
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=self._log, text=True)
        deadline = time.time() + ready_timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    raise RuntimeError("vmtraffic exited rc=%s before READY:\n%s" % (
                        self.proc.returncode, self.log()))
                continue
            if line.startswith("READY"):
                return self
        raise RuntimeError("vmtraffic not READY after %ss:\n%s" % (ready_timeout, self.log()))

    def wait(self, timeout=120):
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGINT)
            out, _ = self.proc.communicate(timeout=20)
        self.summary = out
        self.rc = self.proc.returncode
        return self.report()

    def stop(self, sig=signal.SIGINT):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree("/var/run/dpdk/" + self.name, ignore_errors=True)
        for f in (getattr(self, "_log", None), self.proc and self.proc.stdout):
            if f:
                f.close()

    def run(self, timeout=120):
        self.start()
        return self.wait(timeout)

    def report(self):
        with open(self.report_path) as f:
            return json.load(f)

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-4000:]
        except OSError:
            return ""


class SwitchTestCase(unittest.TestCase):
    """Gives each test a work dir and a started switchd (self.sw); cleans up after."""

    start_switch = True

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vswitch-it-")
        self.traffic = []
        self.sw = Switchd(self.dir)
        if self.start_switch:
            self.sw.start()

    def tearDown(self):
        for t in self.traffic:
            t.stop()
        alive = self.sw.alive()
        self.sw.stop()
        failed = any(e for _, e in (getattr(self._outcome, "errors", None) or []) if e)
        if failed or not alive:
            print("\n---- switchd log (%s)\n%s" % (self.dir, self.sw.log()))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def sock(self, name):
        return os.path.join(self.dir, name + ".sock")

    def vm_port(self, name, queues=1, mode="server", **opts):
        """Adds a vhost-user port; mode is the switch's side (server: the VM connects)."""
        args = ["add-port", name, "type=vhost-user", "mode=" + mode, "path=" + self.sock(name),
                "queues=%d" % queues]
        args += ["%s=%s" % (k.replace("_", "-"), v) for k, v in opts.items()]
        self.sw.ctl(*args)

    def vm_spec(self, name, queues=1, mac=None, server=False, ring=4096):
        # Deep guest rings: the machine is shared, and a preempted traffic tool must not
        # turn into drops the test would blame on the switch.
        s = "%s,path=%s,queues=%d,ring=%d" % (name, self.sock(name), queues, ring)
        if mac:
            s += ",mac=" + mac
        if server:
            s += ",server=1"
        return s

    def run_traffic(self, vms, actions, **kw):
        t = Traffic(self.dir, vms, actions, **kw)
        self.traffic.append(t)
        return t

    def assertAlive(self):
        self.assertTrue(self.sw.alive(), "switchd died:\n" + self.sw.log())
        self.sw.ctl("show")


MAC1 = "52:54:00:00:00:01"
MAC2 = "52:54:00:00:00:02"
MAC3 = "52:54:00:00:00:03"
