#!/usr/bin/env python3
"""selftest_testpmd.py - end-to-end self test of vmtraffic against DPDK's own vhost.

Contract: starts `dpdk-testpmd` with two net_vhost ports (io forwarding,
port0 <-> port1 queue to queue) pinned to --tp-cpu, runs vmtraffic scenarios
pinned to --vt-cpu, stops testpmd (SIGINT) and exits 0 only if every scenario
passed.  Every DPDK process gets --no-pci --no-huge and its own file prefix;
traffic only goes to the unix sockets under --workdir.  Needs root (as DPDK
does), dpdk-testpmd; tshark is optional (capture check skipped without it).

usage: selftest_testpmd.py --vmtraffic BUILD/tests/tools/vmtraffic [--tp-cpu 0] [--vt-cpu 1]
"""
import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

Q = 4


def start_testpmd(work, cpu):
    cmd = ["taskset", "-c", str(cpu), "dpdk-testpmd", "--no-pci", "--no-huge", "-m", "512",
           "--file-prefix", f"vtself{os.getpid()}", "--lcores", f"0@{cpu},1@{cpu}", "--no-telemetry",
           "--vdev", f"net_vhost0,iface={work}/vh0.sock,queues={Q},client=0",
           "--vdev", f"net_vhost1,iface={work}/vh1.sock,queues={Q},client=0",
           "--", "--forward-mode=io", "--nb-cores=1", f"--rxq={Q}", f"--txq={Q}", "--auto-start",
           "--total-num-mbufs=32768", "--stats-period", "60"]
    log = open(os.path.join(work, "testpmd.log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    for _ in range(200):
        if all(os.path.exists(f"{work}/vh{i}.sock") for i in (0, 1)):
            return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    sys.exit("testpmd did not create its vhost sockets, see " + log.name)


class Runner:
    def __init__(self, args, work):
        self.vt, self.cpu, self.work, self.n = args.vmtraffic, args.vt_cpu, work, 0
        self.failures = []

    def run(self, *actions, vms=None, queues=Q):
        self.n += 1
        report = os.path.join(self.work, f"r{self.n}.json")
        # ring=4096: ~80 ms of buffering per queue at these rates, so a poller
        # preempted on a shared CI machine does not turn into drops in testpmd.
        vms = vms or [f"vm1,path={self.work}/vh0.sock,queues={queues},ring=4096",
                      f"vm2,path={self.work}/vh1.sock,queues={queues},ring=4096"]
        cmd = [self.vt, "--prefix", f"vtself{os.getpid()}_{self.n}", "--lcore-cpu", str(self.cpu),
               "--report", report]
        for v in vms:
            cmd += ["--vm", v]
        cmd += list(actions)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        rep = json.load(open(report)) if os.path.exists(report) else None
        return p, rep

    def check(self, name, cond, detail=""):
        print(("PASS " if cond else "FAIL ") + name + ("" if cond else f"  [{detail}]"))
        if not cond:
            self.failures.append(name)


def mangle(src, dst):
    """Stream 0 / txq 0 frames of src, with one each of: reorder, loss, dup,
    bad payload, bad length, bad IP checksum."""
    b = open(src, "rb").read()
    gh, pos, frames = b[:24], 24, []
    while pos < len(b):
        _, _, il, _ = struct.unpack_from("<IIII", b, pos)
        frames.append(bytearray(b[pos + 16:pos + 16 + il]))
        pos += 16 + il
    sel = [f for f in frames if f[12:14] == b"\x08\x00" and struct.unpack_from(">IHH", f, 42)[1:] == (0, 0)]
    sel.sort(key=lambda f: struct.unpack_from(">I", f, 50)[0])
    order = list(range(10)) + [11, 10] + list(range(12, 20)) + list(range(21, 30)) + [29] + list(range(30, len(sel)))
    out = [bytearray(sel[i]) for i in order]
    at = {struct.unpack_from(">I", f, 50)[0]: k for k, f in enumerate(out)}
    out[at[40]][-1] ^= 0xFF
    out[at[50]] = out[at[50]][:-4]
    out[at[60]][22] ^= 1
    with open(dst, "wb") as f:
        f.write(gh)
        for fr in out:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
    return len(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmtraffic", required=True)
    ap.add_argument("--tp-cpu", type=int, default=0)
    ap.add_argument("--vt-cpu", type=int, default=1)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vmtraffic-selftest-")
    tp = start_testpmd(work, args.tp_cpu)
    r = Runner(args, work)
    try:
        N = 20000
        p, rep = r.run("--send", f"vm1:dst=vm2,count={N},rate=200000", "--recv", f"vm2:expect={N}")
        ok = p.returncode == 0 and rep and rep["vms"]["vm2"]["rx"]["valid"] == N
        r.check("basic 4-queue send/expect", ok, p.stdout.strip())
        if rep:
            tx = rep["vms"]["vm1"]["tx"]["per_queue"]
            rx = rep["vms"]["vm2"]["rx"]["per_queue"]
            r.check("per-queue tx == rx (io fwd keeps queues)", tx == rx, f"{tx} vs {rx}")
            r.check("READY printed first", p.stdout.splitlines()[0] == "READY", p.stdout[:40])

        p, rep = r.run("--send", "vm1:dst=vm2,count=10000,rate=200000", "--recv", "vm2:expect=10000",
                       "--corrupt-every", "100")
        ok = p.returncode == 1 and rep and rep["vms"]["vm2"]["rx"]["bad_payload"] == 100
        r.check("corrupt-every detected as bad_payload, exit 1", ok, p.stdout.strip())

        cap = os.path.join(work, "cap.pcap")
        p, rep = r.run("--send", "vm1:dst=vm2,count=1000,rate=100000,flows=4,size=128",
                       "--send", "vm1:dst=vm2,count=200,rate=20000,proto=tcp,vlan=7,queues=0",
                       "--recv", "vm2:expect=1200", "--capture", f"vm2:{cap}")
        r.check("mixed udp/tcp/vlan + capture", p.returncode == 0, p.stdout.strip())
        if shutil.which("tshark"):
            t = subprocess.run(["tshark", "-r", cap], capture_output=True, text=True)
            lines = [l for l in t.stdout.splitlines() if l.strip()]
            r.check("capture readable by tshark", t.returncode == 0 and len(lines) == 1200, t.stderr[-200:])
        p, rep = r.run("--replay", f"vm1:{cap},rate=100000", "--recv", "vm2:expect=1200")
        r.check("replay of capture verifies", p.returncode == 0, p.stdout.strip())

        mangled = os.path.join(work, "mangled.pcap")
        total = mangle(cap, mangled)
        p, rep = r.run("--replay", f"vm1:{mangled},rate=20000", "--recv", "vm2")
        want = {"valid": total - 3, "bad_payload": 1, "bad_length": 1, "bad_ip_csum": 1,
                "lost": 1, "reordered": 1, "dup": 1, "foreign": 0}
        got = {k: rep["vms"]["vm2"]["rx"][k] for k in want} if rep else {}
        r.check("verifier counters on crafted defects", got == want and p.returncode == 1, f"{got}")

        p, rep = r.run("--send", "vm1:dst=vm2,count=5000,rate=100000", "--echo", "vm2",
                       "--recv", "vm1:expect=5000")
        r.check("echo peer round trip", p.returncode == 0, p.stdout.strip())

        p, _ = r.run("--send", "vm1:count=1")
        r.check("usage error exits 2", p.returncode == 2, str(p.returncode))
    finally:
        tp.send_signal(signal.SIGINT)
        try:
            tp.wait(timeout=10)
        except subprocess.TimeoutExpired:
            tp.kill()
            tp.wait()
        # testpmd leaves its EAL runtime dir behind; it is ours (unique prefix).
        shutil.rmtree(f"/var/run/dpdk/vtself{os.getpid()}", ignore_errors=True)
    if r.failures:
        print(f"{len(r.failures)} FAILED; artefacts kept in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("ALL PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
