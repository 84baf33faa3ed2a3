#!/usr/bin/python3
"""The overlay end to end (issue 4): the switch as a VTEP on an uplink port.

- encapsulation on the wire: a net_pcap uplink writes what it sends to a file that
  tshark decodes (VXLAN and GRE headers, outer addresses, DF, entropy source ports) and
  whose inner frames must be byte-identical to what the VM sent;
- decapsulation of scapy-built VXLAN/GRE packets injected into an af_packet uplink on a
  veth (and a net_pcap one, for outer fragments, which af_packet reassembles); broken
  ones are dropped under their named reasons;
- interop with a Linux kernel VXLAN device in a network namespace: underlay ARP both
  ways, arp_reply through the tunnel, ping and UDP in both directions (the VM answers
  ARP and ping with vmtraffic --answer);
- queue steering through a net_ring uplink that loops every tx queue back to its rx
  queue, with the switch as its own remote VTEP so that looped packets are decapsulated:
  every (VM, queue) on its own uplink queue, return traffic on the flow's queue;
- tenant isolation under load with overlapping inner addresses, unknown VNIs counted;
- the VPC router: gateways answer ping, TTL 1 gets "time exceeded" (scapy, and busybox
  traceroute), and DHCP (scapy requests field by field,
  and busybox udhcpc configuring a namespace's interface);
- underlay MTU: too-big packets dropped with ICMP "fragmentation needed";
- persistence of the uplink and static neighbors; bad input refused without a trace.

Network objects (veths, a netns) have unique names and are deleted on cleanup, also when
a test fails. The switch-side veth has IPv6 and ARP answers disabled so that the host
kernel adds nothing to the traffic the tests count.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import time
import unittest

from harness import MAC1, MAC2, MAC3, SwitchTestCase

import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, BOOTP, DHCP, GRE, ICMP, IP, UDP, VXLAN, Ether, Raw,  # noqa: E402
                       conf, rdpcap, sendp, wrpcap)
conf.verb = 0

LOCAL_IP = "192.0.2.1"
REMOTE_IP = "192.0.2.2"
# Neighbors::kProbes requests a second apart, then a second more: how long past the aging
# time a learned entry may go unconfirmed before it is removed.
NEIGHBOR_PROBE_WINDOW_S = 4
REMOTE_MAC = "02:00:00:00:02:01"      # the remote VTEP's underlay MAC
UPLINK_MAC = "02:00:00:00:01:01"      # mac= of net_ring uplinks
VNI = 5001
MAC4 = "52:54:00:00:00:04"
MAC5 = "52:54:00:00:00:05"


def run(*cmd, check=True, timeout=60, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, timeout=timeout, **kw)


def netns_exec(ns, *cmd, **kw):
    return run("ip", "netns", "exec", ns, *cmd, **kw)


def wait_for(cond, timeout=20.0, what="condition", interval=0.05, state=None):
    """Polls cond() until it returns something true; fails the test after timeout,
    showing state() if given."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s (last: %r%s)" % (
                timeout, what, v, "; " + repr(state()) if state else ""))
        time.sleep(interval)


# ping(8) as a script, for hosts without iputils-ping: ICMP echo over a raw socket in the
# netns, so the kernel does the routing, ARP and VXLAN work exactly as for ping.
PING_SCRIPT = r"""
import os, select, socket, struct, sys, time
dst, count, wait, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
def csum(b):
    b += b"\0" * (len(b) & 1)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, got = os.getpid() & 0xffff, 0
for seq in range(1, count + 1):
    data = b"vswitch-ping" + bytes(44)
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + data), ident, seq) + data, (dst, 0))
    deadline = time.time() + wait
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], max(0, deadline - time.time()))
        if not r:
            break
        pkt, addr = s.recvfrom(2048)
        icmp = pkt[(pkt[0] & 15) * 4:]
        if addr[0] == dst and icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, seq) \
                and icmp[8:] == data:
            got += 1
            break
    time.sleep(interval)
print("%d packets transmitted, %d received" % (count, got))
"""


def netns_ping(ns, dst, count, wait=2, interval=0.2):
    """ping -c count in the netns; returns (output, received)."""
    if shutil.which("ping"):
        r = netns_exec(ns, "ping", "-c", str(count), "-i", str(interval), "-W", str(wait), dst, check=False)
    else:
        r = netns_exec(ns, "/usr/bin/python3", "-c", PING_SCRIPT, dst, str(count), str(wait), str(interval),
                       check=False)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    return r.stdout + r.stderr, int(m.group(2)) if m else 0


def write_empty_pcap(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))


def frames(path):
    return [bytes(p) for p in rdpcap(path)] if os.path.getsize(path) > 24 else []


def tshark_fields(path, fields, filt=None):
    """One list of field values per frame (first occurrence: the outer header)."""
    cmd = ["tshark", "-r", path, "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
    if filt:
        cmd += ["-Y", filt]
    for f in fields:
        cmd += ["-e", f]
    r = run(*cmd)
    return [line.split("|") for line in r.stdout.splitlines() if line]


def counter(d, key):
    return int(d.get(key, 0))


def pmd_sum(sw, key):
    return sum(int(p.get(key, 0)) for p in sw.pmd())


def pmd_drops(sw, reason):
    return sum(int(p.get("drops", {}).get(reason, 0)) for p in sw.pmd())


class Overlay(SwitchTestCase):
    """Each test starts its own switchd (harness) and its own network objects."""

    def setUp(self):
        super().setUp()
        self.tag = "oi%d" % (os.getpid() % 100000)
        self.n_links = 0

    # ------------------------------------------------------------------ plumbing

    def veth(self, peer_ns=None):
        """A veth pair (switch side, peer side); the peer moves into peer_ns if given."""
        self.n_links += 1
        a = "%sa%d" % (self.tag, self.n_links)
        b = "%sb%d" % (self.tag, self.n_links)
        run("ip", "link", "del", a, check=False)       # left over by a killed run with our pid
        run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        self.addCleanup(run, "ip", "link", "del", a, check=False)
        # The host kernel must stay silent on the switch side: no IPv6 (router
        # solicitations, MLD), no ARP answers; it has no address and does not forward.
        for side in (a,) if peer_ns else (a, b):
            run("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % side)
        run("sysctl", "-qw", "net.ipv4.conf.%s.arp_ignore=8" % a)
        if peer_ns:
            run("ip", "link", "set", b, "netns", peer_ns)
            netns_exec(peer_ns, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % b)
            netns_exec(peer_ns, "ip", "link", "set", b, "up")
        else:
            run("ip", "link", "set", b, "up")
        run("ip", "link", "set", a, "up")
        return a, b

    def netns(self):
        ns = "%sns" % self.tag
        run("ip", "netns", "del", ns, check=False)
        run("ip", "netns", "add", ns)
        self.addCleanup(run, "ip", "netns", "del", ns, check=False)
        netns_exec(ns, "ip", "link", "set", "lo", "up")
        return ns

    def uplink(self, devargs, queues=1, mtu=None, local_ip=LOCAL_IP + "/24", neighbors=()):
        self.sw.ctl("add-port", "up0", "type=dpdk", "devargs=" + devargs, "queues=%d" % queues)
        args = ["set-uplink", "up0", "local-ip=" + local_ip]
        if mtu:
            args.append("mtu=%d" % mtu)
        self.sw.ctl(*args)
        for ip, mac in neighbors:
            self.sw.ctl("add-neighbor", "up0", ip, mac)
        u = self.sw.json("show-uplink")
        self.assertTrue(u["configured"], u)
        return u["mac"]

    def self_vtep(self, queues=1, mtu=None):
        """net_ring uplink that is its own remote VTEP: what leaves on tx queue q comes
        back on rx queue q, addressed to the local IP, and is decapsulated."""
        # net_ring has no MAC (all zeros), which no VTEP can use: give it one.
        self.sw.ctl("add-port", "up0", "type=dpdk", "devargs=net_ring0", "queues=%d" % queues,
                    "mac=" + UPLINK_MAC)
        args = ["set-uplink", "up0", "local-ip=%s/24" % LOCAL_IP] + (["mtu=%d" % mtu] if mtu else [])
        self.sw.ctl(*args)
        self.assertEqual(self.sw.json("show-uplink")["mac"], UPLINK_MAC)
        self.sw.ctl("add-neighbor", "up0", LOCAL_IP, UPLINK_MAC)
        return UPLINK_MAC

    def add_flows(self, flows):
        path = os.path.join(self.dir, "flows%d.txt" % len(os.listdir(self.dir)))
        with open(path, "w") as f:
            f.write("\n".join(flows) + "\n")
        self.sw.ctl("add-flows", path)

    def encap_to(self, vni, dst=REMOTE_IP, port="vxlan0"):
        return "set_field:%d->tun_id,set_field:%s->tun_dst,output:%s" % (vni, dst, port)

    def start_capture(self, vms, vm, extra=(), duration=90):
        """Starts a vmtraffic playing `vms` that captures what `vm` receives until it is
        stopped (t.stop() completes the file); returns (traffic, pcap path)."""
        path = os.path.join(self.dir, "%s-%d.pcap" % (vm, len(os.listdir(self.dir))))
        t = self.run_traffic(vms, ["--capture", "%s:%s" % (vm, path)] + list(extra),
                             duration=duration).start()
        return t, path

    def flow_packets(self):
        return {(f["match"], f["actions"]): int(f["n_packets"]) for f in self.sw.json("dump-flows")["flows"]}

    # ------------------------------------------------------------------ 1. on the wire

    def test_encap_on_the_wire_tshark(self):
        """VM -> vxlan0 / gre0 -> net_pcap uplink -> tx pcap, decoded by tshark."""
        empty = os.path.join(self.dir, "empty.pcap")
        out = os.path.join(self.dir, "uplink-tx.pcap")
        write_empty_pcap(empty)
        up_mac = self.uplink("net_pcap0,rx_pcap=%s,tx_pcap=%s" % (empty, out),
                             neighbors=[(REMOTE_IP, REMOTE_MAC)])
        self.vm_port("vm1")
        self.add_flows([
            "priority=10,in_port=vm1,ip,nw_dst=10.1.0.2,actions=" + self.encap_to(VNI),
            "priority=10,in_port=vm1,ip,nw_dst=10.1.0.3,actions=" + self.encap_to(VNI + 1, port="gre0"),
        ])
        # 16 UDP flows to each tunnel, 3 frames each (sizes differ), plus DF on some.
        sent = []
        for i in range(16):
            for k in range(3):
                for dst in ("10.1.0.2", "10.1.0.3"):
                    p = (Ether(src=MAC1, dst=MAC2) /
                         IP(src="10.1.0.1", dst=dst, flags="DF" if i % 2 else 0, id=i * 10 + k) /
                         UDP(sport=1000 + i, dport=80) / Raw(bytes([i, k]) * (20 + 30 * k + i)))
                    sent.append(bytes(p))
        src = os.path.join(self.dir, "vm1-sends.pcap")
        wrpcap(src, [Ether(f) for f in sent])
        rep = self.run_traffic([self.vm_spec("vm1", mac=MAC1)],
                               ["--replay", "vm1:%s,rate=20000" % src, "--start-delay", "1"]).run()
        self.assertEqual(rep["vms"]["vm1"]["tx"]["packets"], len(sent))
        wait_for(lambda: int(self.sw.port("up0")["tx_packets"]) >= len(sent), what="uplink tx")
        self.assertEqual(int(self.sw.port("up0")["tx_packets"]), len(sent))
        dp = " ".join(f["actions"] for f in self.sw.json("dump-dpflows")["flows"])
        self.assertIn("tunnel_push(vxlan,dst_port=4789,key=%d,src=%s,dst=%s,eth_dst=%s" % (
            VNI, LOCAL_IP, REMOTE_IP, REMOTE_MAC), dp)
        self.assertIn("tunnel_push(gre,", dp)
        # net_pcap flushes the file after every tx burst.
        got = wait_for(lambda: len(frames(out)) >= len(sent) and frames(out), what="frames in " + out)
        self.assertEqual(len(got), len(sent))

        vx = tshark_fields(out, ["eth.src", "eth.dst", "ip.src", "ip.dst", "ip.flags.df", "ip.ttl",
                                 "ip.proto", "udp.srcport", "udp.dstport", "vxlan.vni", "ip.checksum.status"],
                           "vxlan")
        self.assertEqual(len(vx), len(sent) // 2, vx[:3])
        ports_by_flow = {}
        for row in vx:
            esrc, edst, isrc, idst, df, ttl, proto, sport, dport, vni, _ = row
            self.assertEqual((esrc, edst), (up_mac, REMOTE_MAC))
            self.assertEqual((isrc, idst), (LOCAL_IP, REMOTE_IP))
            self.assertIn(df, ("1", "True"))
            self.assertEqual((ttl, proto, dport, vni), ("64", "17", "4789", str(VNI)))
            self.assertTrue(49152 <= int(sport) <= 65535, sport)
        gre = tshark_fields(out, ["eth.src", "eth.dst", "ip.src", "ip.dst", "ip.flags.df", "ip.ttl",
                                  "ip.proto", "gre.key", "gre.proto"], "gre")
        self.assertEqual(len(gre), len(sent) // 2, gre[:3])
        for esrc, edst, isrc, idst, df, ttl, proto, key, gproto in gre:
            self.assertEqual((esrc, edst, isrc, idst), (up_mac, REMOTE_MAC, LOCAL_IP, REMOTE_IP))
            self.assertIn(df, ("1", "True"))
            self.assertEqual((ttl, proto, int(key, 0), int(gproto, 0)), ("64", "47", VNI + 1, 0x6558))

        # Inner frames byte-identical, in order per tunnel; IP header checksums right
        # (scapy recomputes them: a rebuilt header must equal the original).
        inner_vx = [f[50:] for f in got if f[23] == 17]
        inner_gre = [f[42:] for f in got if f[23] == 47]
        self.assertEqual(inner_vx, [f for f in sent if f[30:34] == bytes([10, 1, 0, 2])])
        self.assertEqual(inner_gre, [f for f in sent if f[30:34] == bytes([10, 1, 0, 3])])
        for f in got:
            outer = Ether(f)[IP]
            c = outer.chksum
            del outer.chksum
            self.assertEqual(IP(bytes(outer)).chksum, c)
            self.assertEqual(outer.len, len(f) - 14)

        # Entropy: each flow keeps one outer source port; distinct flows get distinct ones.
        for f in got:
            if f[23] != 17:
                continue
            sport = struct.unpack("!H", f[34:36])[0]
            inner_sport = struct.unpack("!H", f[50 + 34:50 + 36])[0]
            ports_by_flow.setdefault(inner_sport, set()).add(sport)
        self.assertEqual(len(ports_by_flow), 16)
        self.assertTrue(all(len(s) == 1 for s in ports_by_flow.values()), ports_by_flow)
        self.assertEqual(len({next(iter(s)) for s in ports_by_flow.values()}), 16, ports_by_flow)

    # ------------------------------------------------------------------ 2. scapy round trip

    def test_decap_scapy_af_packet_uplink(self):
        """scapy VXLAN/GRE into an af_packet uplink -> vm1 byte-exact; bad ones counted.
        No outer fragments here: DPDK 22.11's af_packet PMD joins a PACKET_FANOUT group
        with PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles (or, incomplete,
        discards) IP fragments before the switch could see them."""
        self.decap_round_trip("net_af_packet0,iface=%s", fragments=False)

    def test_decap_scapy_pcap_iface_uplink_with_fragments(self):
        """The same through a net_pcap uplink on the veth (libpcap: no defragmentation),
        plus outer fragments, which must be dropped as tunnel_fragment."""
        self.decap_round_trip("net_pcap0,rx_iface_in=%s,tx_iface=%s", fragments=True)

    def decap_round_trip(self, devargs, fragments):
        sw_if, peer = self.veth()
        up_mac = self.uplink(devargs.replace("%s", sw_if))
        self.vm_port("vm1")
        self.add_flows([
            "in_port=vxlan0,tun_id=%d,actions=output:vm1" % VNI,
            "in_port=gre0,tun_id=%d,actions=output:vm1" % VNI,
            "in_port=vxlan0,tun_id=5002,actions=drop:vpc_unknown_vni",
        ])
        t, cap = self.start_capture([self.vm_spec("vm1", mac=MAC1)], "vm1")

        def outer(proto=17):
            return Ether(src=REMOTE_MAC, dst=up_mac) / IP(src=REMOTE_IP, dst=LOCAL_IP, flags="DF", proto=proto)

        def inner(i, tag):
            return bytes(Ether(src=MAC2, dst=MAC1) / IP(src="10.1.0.27", dst="10.1.0.11") /
                         UDP(sport=3000 + i, dport=4000) / Raw(tag + bytes([i]) * (10 + 7 * i)))

        good_vx = [inner(i, b"vx") for i in range(20)]
        good_gre = [inner(i, b"gre") for i in range(20)]
        pkts = []
        for i, f in enumerate(good_vx):
            pkts.append(outer() / UDP(sport=50000 + i, dport=4789) / VXLAN(vni=VNI) / Raw(f))
        for f in good_gre:
            pkts.append(outer(47) / GRE(key_present=1, key=VNI, proto=0x6558) / Raw(f))
        bad = {
            # VNI with a drop:vpc_unknown_vni rule / with no rule at all (table miss).
            "vpc_unknown_vni": [outer() / UDP(sport=50100, dport=4789) / VXLAN(vni=5002) / Raw(inner(i, b"u"))
                                for i in range(5)],
            "flow_drop": [outer() / UDP(sport=50200, dport=4789) / VXLAN(vni=7777) / Raw(inner(i, b"n"))
                          for i in range(6)],
            # Outer IPv4 header checksum wrong.
            "tunnel_bad_checksum": [Ether(bytes(outer() / UDP(sport=50300, dport=4789) / VXLAN(vni=VNI) /
                                                Raw(inner(i, b"c")))) for i in range(7)],
            # UDP to 4789 with 4 bytes of payload: no room for the VXLAN header.
            "tunnel_malformed": [outer() / UDP(sport=50400, dport=4789) / Raw(b"\x08\0\0\0") for _ in range(8)],
        }
        if fragments:
            # First fragment of a VXLAN packet (MF set).
            bad["tunnel_fragment"] = [Ether(src=REMOTE_MAC, dst=up_mac) /
                                      IP(src=REMOTE_IP, dst=LOCAL_IP, flags="MF", id=77 + i, proto=17) /
                                      UDP(sport=50500, dport=4789, len=8 + 8 + 300) / VXLAN(vni=VNI) /
                                      Raw(inner(i, b"f")[:100]) for i in range(9)]
        for p in bad["tunnel_bad_checksum"]:
            p[IP].chksum ^= 0x5555
        for reason, ps in bad.items():
            pkts += ps
        before = self.sw.drops("up0")
        # In chunks, each taken in before the next: net_pcap reads through libpcap, whose
        # ring holds only ~32 frames at its 64 KiB snaplen, and the PMD may be preempted.
        rx0 = int(self.sw.port("up0")["rx_packets"])
        for i in range(0, len(pkts), 16):
            sendp(pkts[i:i + 16], iface=peer)
            want = rx0 + min(i + 16, len(pkts))
            wait_for(lambda: int(self.sw.port("up0")["rx_packets"]) >= want, what="uplink rx of %d" % want,
                     state=lambda: self.sw.port("up0")["rx_packets"])
        expect = {r: len(ps) for r, ps in bad.items()}

        def settled():
            d = self.sw.drops("up0")
            return all(counter(d, r) - counter(before, r) >= n for r, n in expect.items()) and \
                int(self.sw.port("vm1")["tx_packets"]) >= 40
        wait_for(settled, what="decapsulated packets and drops",
                 state=lambda: (self.sw.drops("up0"), self.sw.port("vm1")["tx_packets"],
                                self.sw.port("up0")["rx_packets"]))
        time.sleep(0.3)                      # anything extra would show up now
        d = self.sw.drops("up0")
        for r, n in expect.items():
            self.assertEqual(counter(d, r) - counter(before, r), n, (r, d))
        self.assertEqual(pmd_drops(self.sw, "vpc_unknown_vni"), 5)
        self.assertEqual(int(self.sw.port("vm1")["tx_packets"]), 40)
        t.stop()
        got = frames(cap)
        # Each tunnel's frames in the order sent (both arrive on one queue, one by one).
        self.assertEqual([f for f in got if b"vx" in f[42:44]], good_vx)
        self.assertEqual([f for f in got if b"gre" in f[42:45]], good_gre)
        self.assertEqual(len(got), 40)
        dp = " ".join(f["actions"] for f in self.sw.json("dump-dpflows")["flows"])
        self.assertIn("tunnel_pop(vxlan0)", dp)
        self.assertIn("tunnel_pop(gre0)", dp)
        self.assertGreaterEqual(pmd_sum(self.sw, "recirculated"), 40)

    # ------------------------------------------------------------------ neighbor aging

    def test_neighbor_aging_linux_peer(self):
        """A learned neighbor that keeps answering stays (each answer confirms it: an ARP
        reply to the VTEP is never cached in a megaflow); one that stops answering is
        removed after its probes; it is learned again when it speaks."""
        from harness import Switchd
        self.sw.stop()
        self.sw = Switchd(self.dir, extra_args=["--neighbor-aging", "2"]).start()
        ns = self.netns()
        sw_if, peer = self.veth(peer_ns=ns)
        peer_mac = "02:00:00:00:02:02"
        sh = lambda *c, **kw: netns_exec(ns, *c, **kw)  # noqa: E731
        sh("ip", "link", "set", peer, "address", peer_mac)
        sh("ip", "addr", "add", REMOTE_IP + "/24", "dev", peer)
        self.uplink("net_af_packet0,iface=" + sw_if)
        u = self.sw.json("show-uplink")
        self.assertEqual(float(u["neighbor_aging_s"]), 2.0, u)

        def neighbor():
            u = self.sw.json("show-uplink")
            return {n["ip"]: n for n in u["neighbors"]}.get(REMOTE_IP), u
        # The kernel asks for the VTEP's address (its ping is not answered; its ARP is,
        # and teaches the switch the peer).
        netns_ping(ns, LOCAL_IP, 1, wait=1)
        wait_for(lambda: neighbor()[0], timeout=10, what="peer learned", state=lambda: neighbor()[1])
        self.assertEqual(neighbor()[0]["mac"], peer_mac)
        sent0 = int(neighbor()[1].get("arp_requests_sent", 0))

        # Alive: probed every 2 s and answered each time; never removed.
        for _ in range(16):
            n, u = neighbor()
            self.assertIsNotNone(n, u)
            self.assertLess(float(n.get("age_s", 0)), 2 + NEIGHBOR_PROBE_WINDOW_S, u)
            time.sleep(0.5)
        n, u = neighbor()
        self.assertGreaterEqual(int(u.get("arp_requests_sent", 0)) - sent0, 2, u)
        self.assertEqual(int(u.get("neighbors_aged_out", 0)), 0, u)
        # No megaflow holds an ARP reply: each answer must reach translation. (The peer's
        # requests to the VTEP are cached: see the test after this one.)
        flows = self.sw.json("dump-dpflows")["flows"]
        replies = [f for f in flows if "0x806" in f["match"] and "op=2" in f["match"]]
        self.assertEqual(replies, [], flows)

        # Silent (its address gone): removed after the probes, counted.
        sh("ip", "addr", "del", REMOTE_IP + "/24", "dev", peer)
        wait_for(lambda: neighbor()[0] is None, timeout=10, what="silent peer aged out",
                 state=lambda: neighbor()[1])
        self.assertEqual(int(neighbor()[1]["neighbors_aged_out"]), 1)

        # Back: learned again from its next ARP.
        sh("ip", "addr", "add", REMOTE_IP + "/24", "dev", peer)
        netns_ping(ns, LOCAL_IP, 1, wait=1)
        wait_for(lambda: neighbor()[0], timeout=10, what="peer learned again", state=lambda: neighbor()[1])

    def test_arp_requests_to_the_vtep_are_answered_from_a_megaflow(self):
        """A storm of ARP requests to the VTEP from one underlay host: every one is
        answered, by one cached megaflow after the first (one upcall, not one per
        request), and the megaflow's packets still confirm the asker: deleted from the
        neighbor table, it is learned again from requests that never upcall."""
        ns = self.netns()
        sw_if, peer = self.veth(peer_ns=ns)
        peer_mac = "02:00:00:00:02:03"
        netns_exec(ns, "ip", "link", "set", peer, "address", peer_mac)
        uplink_mac = self.uplink("net_af_packet0,iface=" + sw_if)
        # scapy in the netns: n requests "who has LOCAL_IP? tell REMOTE_IP" from the peer,
        # the replies captured; prints how many were sent and answered correctly.
        storm = r"""
import sys
from scapy.all import ARP, Ether, AsyncSniffer, sendp, conf
conf.verb = 0
iface, mac, n, src, dst, vtep_mac = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
sn = AsyncSniffer(iface=iface, filter="arp", store=True)
sn.start()
import time; time.sleep(0.5)
req = Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=mac, psrc=src, pdst=dst)
sendp([req] * n, iface=iface)
time.sleep(1.5)
got = sn.stop()
ok = [p for p in got if p.haslayer(ARP) and p[ARP].op == 2 and p[ARP].psrc == dst and p[ARP].pdst == src
      and p[ARP].hwsrc == vtep_mac and p[ARP].hwdst == mac and p[Ether].dst == mac]
print("sent %d answered %d" % (n, len(ok)))
"""
        upcalls = lambda: sum(int(p["upcalls"]) for p in self.sw.pmd())  # noqa: E731

        def neighbor():
            u = self.sw.json("show-uplink")
            return {n["ip"]: n for n in u["neighbors"]}.get(REMOTE_IP), u

        def arp_megaflows():
            return [f for f in self.sw.json("dump-dpflows")["flows"] if "0x806" in f["match"]]

        up0 = upcalls()
        n = 500
        r = netns_exec(ns, "/usr/bin/python3", "-c", storm, peer, peer_mac, str(n), REMOTE_IP, LOCAL_IP,
                       uplink_mac, timeout=120)
        self.assertIn("sent %d answered %d" % (n, n), r.stdout, r.stdout + r.stderr)
        # One upcall for the storm (a few more would be the peer's own stray packets).
        self.assertLessEqual(upcalls() - up0, 3, self.sw.pmd())
        mf = arp_megaflows()
        self.assertEqual(len(mf), 1, mf)
        self.assertGreaterEqual(int(mf[0]["packets"]), n - 1, mf)
        self.assertIn("arp_reply", mf[0]["actions"], mf)
        wait_for(lambda: neighbor()[0], timeout=5, what="asker learned", state=lambda: neighbor()[1])
        self.assertEqual(neighbor()[0]["mac"], peer_mac)

        # The confirmation comes from the megaflow's counts: removed, the asker is learned
        # again from requests that hit the cached megaflow (no upcall).
        self.sw.ctl("del-neighbor", "up0", REMOTE_IP)
        self.assertIsNone(neighbor()[0])
        wait_for(lambda: len(arp_megaflows()) == 1, timeout=5, what="ARP megaflow kept after del-neighbor")
        up1 = upcalls()
        r = netns_exec(ns, "/usr/bin/python3", "-c", storm, peer, peer_mac, "5", REMOTE_IP, LOCAL_IP,
                       uplink_mac, timeout=60)
        self.assertIn("sent 5 answered 5", r.stdout, r.stdout + r.stderr)
        wait_for(lambda: neighbor()[0], timeout=5, what="asker confirmed by the megaflow's packets",
                 state=lambda: (neighbor()[1], arp_megaflows()))
        self.assertEqual(neighbor()[0]["mac"], peer_mac)
        self.assertFalse(neighbor()[0].get("is_static", False), neighbor()[0])
        self.assertLessEqual(upcalls() - up1, 1, self.sw.pmd())

    # ------------------------------------------------------------------ 3. Linux VXLAN peer

    def test_interop_linux_vxlan_peer(self):
        """A kernel vxlan device in a netns is the remote VTEP; its IP on the overlay
        (10.1.0.27) and the VM (10.1.0.11) ping each other and exchange UDP both ways."""
        ns = self.netns()
        sw_if, peer = self.veth(peer_ns=ns)
        peer_mac = "02:00:00:00:02:02"
        remote_vm_mac = "02:00:00:00:01:27"
        vm_ip, remote_vm_ip = "10.1.0.11", "10.1.0.27"
        sh = lambda *c, **kw: netns_exec(ns, *c, **kw)  # noqa: E731
        sh("ip", "link", "set", peer, "address", peer_mac)
        sh("ip", "addr", "add", REMOTE_IP + "/24", "dev", peer)
        sh("ip", "link", "add", "vx0", "type", "vxlan", "id", str(VNI), "dstport", "4789",
           "local", REMOTE_IP, "remote", LOCAL_IP, "dev", peer)
        sh("sysctl", "-qw", "net.ipv6.conf.vx0.disable_ipv6=1")
        sh("ip", "link", "set", "vx0", "address", remote_vm_mac)
        sh("ip", "addr", "add", remote_vm_ip + "/24", "dev", "vx0")
        sh("ip", "link", "set", "vx0", "up")

        # No static neighbor: the switch must learn 192.0.2.2 by ARP.
        up_mac = self.uplink("net_af_packet0,iface=" + sw_if)
        self.vm_port("vm1")
        self.add_flows([
            "in_port=vm1,actions=" + self.encap_to(VNI),
            "priority=10,in_port=vxlan0,tun_id=%d,actions=output:vm1" % VNI,
            # The kernel's ARP for the VM, asked through the tunnel, is answered by the
            # switch (back through the tunnel to the host that asked).
            "priority=100,in_port=vxlan0,tun_id=%d,arp,arp_op=1,arp_tpa=%s,actions=arp_reply:%s" % (
                VNI, vm_ip, MAC1),
        ])
        # The VM answers ICMP echo (and would answer ARP, which the flow above catches).
        t, cap = self.start_capture([self.vm_spec("vm1", mac=MAC1)], "vm1",
                                    extra=["--answer", "vm1:ip=" + vm_ip])

        # Ping: a first one may have to wait for both ARP resolutions.
        wait_for(lambda: netns_ping(ns, vm_ip, 1)[1] == 1, timeout=30, interval=0.5, what="first ping reply",
                 state=lambda: (self.sw.json("show-uplink"), self.sw.drops("up0"), self.sw.drops("vm1")))
        out, received = netns_ping(ns, vm_ip, 5, wait=3)
        self.assertEqual(received, 5, out)

        # The underlay ARP both ways: the kernel asked for 192.0.2.1 and the switch
        # answered with the uplink's MAC; the switch asked for 192.0.2.2 (or learned it
        # from the kernel's request).
        neigh = json.loads(sh("ip", "-j", "neigh", "show", LOCAL_IP, "dev", peer).stdout)
        self.assertEqual([n.get("lladdr") for n in neigh], [up_mac], neigh)
        learned = {n["ip"]: n for n in self.sw.json("show-uplink")["neighbors"]}
        self.assertEqual(learned[REMOTE_IP]["mac"], peer_mac)
        self.assertFalse(learned[REMOTE_IP]["is_static"])
        # The overlay ARP: answered by the arp_reply rule, the VM never saw it.
        neigh = json.loads(sh("ip", "-j", "neigh", "show", vm_ip, "dev", "vx0").stdout)
        self.assertEqual([n.get("lladdr") for n in neigh], [MAC1.lower()], neigh)
        arp_rule = [n for (m, a), n in self.flow_packets().items() if a.startswith("arp_reply")]
        self.assertGreaterEqual(arp_rule[0], 1)
        # Without the rule the ARP reaches the VM, which answers it itself (--answer).
        self.sw.ctl("del-flows", "--strict",
                    "priority=100,in_port=vxlan0,tun_id=%d,arp,arp_op=1,arp_tpa=%s" % (VNI, vm_ip))
        sh("ip", "neigh", "flush", "dev", "vx0")
        wait_for(lambda: netns_ping(ns, vm_ip, 1)[1] == 1, timeout=30, interval=0.5, what="ping after flush",
                 state=lambda: (self.sw.json("dump-dpflows"), self.sw.drops("up0"), sh("ip", "neigh").stdout))
        neigh = json.loads(sh("ip", "-j", "neigh", "show", vm_ip, "dev", "vx0").stdout)
        self.assertEqual([n.get("lladdr") for n in neigh], [MAC1.lower()], neigh)

        # UDP netns -> VM.
        n = 50
        sender = ("import socket,time\n"
                  "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                  "s.bind(('%s',7000))\n"
                  "for i in range(%d):\n"
                  "    s.sendto(b'from-netns-%%04d' %% i + bytes(100), ('%s',5001))\n"
                  "    time.sleep(0.002)\n" % (remote_vm_ip, n, vm_ip))
        sh("/usr/bin/python3", "-c", sender)
        vm1_tx0 = int(self.sw.port("vm1")["tx_packets"])

        # UDP VM -> netns: a socket in the netns counts what arrives.
        rx_script = ("import socket,sys\n"
                     "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                     "s.bind(('%s',5001)); s.settimeout(10)\n"
                     "print('bound',flush=True)\n"
                     "got=[]\n"
                     "try:\n"
                     "    while len(got)<%d:\n"
                     "        d,a=s.recvfrom(65535); got.append((a[0],a[1],len(d),d[:4].hex()))\n"
                     "except socket.timeout: pass\n"
                     "print(len(got)); print(sorted(set(got)))\n" % (remote_vm_ip, n))
        rx = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", rx_script],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: rx.poll() is None and rx.kill())
        self.assertEqual(rx.stdout.readline().strip(), "bound")
        t.stop()
        answered = t.report()["vms"]["vm1"]["answer"]
        self.assertGreaterEqual(answered["arp_replies"], 1)
        self.assertGreaterEqual(answered["icmp_replies"], 7)
        # The VM pings the netns too (echo requests replayed from a pcap), meanwhile.
        pings = os.path.join(self.dir, "vm-pings.pcap")
        wrpcap(pings, [Ether(src=MAC1, dst=remote_vm_mac) / IP(src=vm_ip, dst=remote_vm_ip) /
                       ICMP(type=8, id=0x77, seq=i) / Raw(b"vm-ping-%d" % i) for i in range(5)])
        cap2 = os.path.join(self.dir, "vm1-second.pcap")
        rep = self.run_traffic([self.vm_spec("vm1", mac=MAC1)], [
            "--send", "vm1:dst=%s,src_ip=%s,dst_ip=%s,sport=6000,dport=5001,count=%d,rate=1000,size=200" % (
                remote_vm_mac, vm_ip, remote_vm_ip, n),
            "--replay", "vm1:%s,rate=50" % pings, "--answer", "vm1:ip=" + vm_ip, "--capture", "vm1:" + cap2,
            "--drain", "2"]).run()
        self.assertEqual(rep["vms"]["vm1"]["tx"]["packets"], n + 5 + rep["vms"]["vm1"]["answer"]["arp_replies"])
        replies = [Ether(f) for f in frames(cap2)]
        replies = [p for p in replies if p.haslayer(ICMP) and p[ICMP].type == 0]
        self.assertEqual([(p[IP].src, p[IP].dst, p[ICMP].id, p[ICMP].seq, bytes(p[ICMP].payload)) for p in replies],
                         [(remote_vm_ip, vm_ip, 0x77, i, b"vm-ping-%d" % i) for i in range(5)])
        out, err = rx.communicate(timeout=30)
        lines = out.splitlines()
        self.assertEqual(lines[0], str(n), out + err)
        # All from the VM's address and port, 200-byte frames (158 bytes of UDP payload)
        # with vmtraffic's magic.
        self.assertEqual(lines[1], str([(vm_ip, 6000, 200 - 42, "564d5431")]), out)

        # What the VM received: the echo requests, and the netns's datagrams, in order.
        got = [Ether(f) for f in frames(cap)]
        echo = [p for p in got if p.haslayer(ICMP) and p[ICMP].type == 8]
        self.assertEqual(len(echo), answered["icmp_replies"])
        arp = [p for p in got if p.haslayer(ARP)]
        self.assertEqual(len(arp), answered["arp_replies"])
        udp = [p for p in got if p.haslayer(UDP) and p[UDP].dport == 5001]
        self.assertEqual([bytes(p[UDP].payload) for p in udp],
                         [b"from-netns-%04d" % i + bytes(100) for i in range(n)])
        for p in udp:
            self.assertEqual((p.src, p.dst, p[IP].src, p[IP].dst, p[UDP].sport),
                             (remote_vm_mac, MAC1.lower(), remote_vm_ip, vm_ip, 7000))
        self.assertGreaterEqual(vm1_tx0, n)
        # Nothing the switch could not deliver to the netns or the VM.
        for port in ("up0", "vm1"):
            d = self.sw.drops(port)
            self.assertEqual(d.get("tunnel_malformed", 0) + d.get("tx_full", 0), 0, (port, d))

    # ------------------------------------------------------------------ 4. steering

    def steering_setup(self):
        self.self_vtep(queues=8)
        self.vm_port("vm1", queues=4)
        self.vm_port("vm2", queues=4)
        self.add_flows([
            "in_port=vm1,actions=" + self.encap_to(VNI, dst=LOCAL_IP),
            "in_port=vm2,actions=" + self.encap_to(VNI + 1, dst=LOCAL_IP),
            "in_port=vxlan0,tun_id=%d,actions=output:vm2" % VNI,
            "in_port=vxlan0,tun_id=%d,actions=output:vm1" % (VNI + 1),
        ])
        up0 = self.sw.port("up0")
        self.assertEqual((up0["n_rxq"], up0["n_txq"]), (8, 8))

    def uplink_txq_map(self):
        """{(vm, rx queue): up0 tx queue} from pmd-rxq-show."""
        m = {}
        for r in self.sw.json("pmd-rxq-show")["rxqs"]:
            if r["port"] in ("vm1", "vm2"):
                tx = [x for x in r["tx"] if x["port"] == "up0"][0]
                self.assertFalse(tx.get("shared", False), r)
                m[(r["port"], r.get("queue", 0))] = tx.get("txq", 0)
        return m

    def test_steering_each_vm_queue_own_uplink_queue(self):
        """2 VMs x 4 queues -> 8 uplink tx queues, one each, no locks, nothing lost."""
        self.steering_setup()
        n = 8000
        vms = [self.vm_spec("vm1", queues=4, mac=MAC1), self.vm_spec("vm2", queues=4, mac=MAC2)]
        t = self.run_traffic(vms, [
            "--send", "vm1:dst=%s,count=%d,rate=40000,queues=all,flows=32,stream=1" % (MAC2, n),
            "--send", "vm2:dst=%s,count=%d,rate=40000,queues=all,flows=32,stream=2" % (MAC1, n),
            "--recv", "vm1:expect=%d,timeout=10" % n, "--recv", "vm2:expect=%d,timeout=10" % n,
            "--start-delay", "2"]).start()
        time.sleep(1)
        txmap = self.uplink_txq_map()
        self.assertEqual(len(txmap), 8, txmap)
        self.assertEqual(sorted(txmap.values()), list(range(8)), txmap)
        rep = t.wait()
        for vm, other in (("vm1", "vm2"), ("vm2", "vm1")):
            rx = rep["vms"][vm]["rx"]
            self.assertEqual((rx["valid"], rx["lost"], rx["foreign"]), (n, 0, 0), (vm, rx))
            self.assertEqual(rep["vms"][other]["tx"]["per_queue"], [n // 4] * 4)
        up0 = self.sw.port("up0")
        uptx = {q.get("queue", 0): int(q.get("packets", 0)) for q in up0["txq"]}
        uprx = {q.get("queue", 0): int(q.get("packets", 0)) for q in up0["rxq"]}
        for vm in ("vm1", "vm2"):
            vmrx = {q.get("queue", 0): int(q.get("packets", 0)) for q in self.sw.port(vm)["rxq"]}
            for q in range(4):
                self.assertEqual(vmrx[q], n // 4)
                self.assertEqual(uptx[txmap[(vm, q)]], n // 4, (vm, q, uptx))   # its own queue
                self.assertEqual(uprx[txmap[(vm, q)]], n // 4, (vm, q, uprx))   # ring: same queue back
        self.assertEqual(pmd_sum(self.sw, "tx_shared_locks"), 0)
        self.assertEqual(pmd_sum(self.sw, "recirculated"), 2 * n)

    def test_steering_return_traffic_on_the_flows_queue(self):
        """vm2 sends flow q from its queue q; vm1 answers with the reverse 5-tuples from
        other queues; after encap -> ring -> decap each answer reaches vm2 on queue q."""
        self.steering_setup()
        vms = [self.vm_spec("vm1", queues=4, mac=MAC1), self.vm_spec("vm2", queues=4, mac=MAC2)]
        fwd = []
        for q in range(4):
            fwd += ["--send", "vm2:dst=%s,src_ip=10.0.0.2,dst_ip=10.0.0.1,sport=%d,dport=6000,count=50,"
                    "rate=5000,queues=%d,stream=%d" % (MAC1, 2000 + q, q, 10 + q)]
        rep = self.run_traffic(vms, fwd + ["--recv", "vm1:expect=200,timeout=10", "--start-delay", "2"]).run()
        self.assertEqual(rep["vms"]["vm2"]["tx"]["per_queue"], [50] * 4)
        self.assertEqual(rep["vms"]["vm1"]["rx"]["valid"], 200)
        hits0 = pmd_sum(self.sw, "affinity_hits")
        miss0 = pmd_sum(self.sw, "affinity_misses")
        # vm1 never sent these flows: spread by inner hash over its queues (misses).
        self.assertEqual((hits0, miss0), (0, 200))
        self.assertGreater(sum(1 for c in rep["vms"]["vm1"]["rx"]["per_queue"] if c), 1)

        # The answers: flow q gets 40*(q+1) packets, sent from vm1 queue 3-q.
        counts = [40 * (q + 1) for q in range(4)]
        rev = []
        for q in range(4):
            rev += ["--send", "vm1:dst=%s,src_ip=10.0.0.1,dst_ip=10.0.0.2,sport=6000,dport=%d,count=%d,"
                    "rate=5000,queues=%d,stream=%d" % (MAC2, 2000 + q, counts[q], 3 - q, 20 + q)]
        rep = self.run_traffic(vms, rev + ["--recv", "vm2:expect=%d,timeout=10" % sum(counts),
                                           "--start-delay", "2"]).run()
        rx = rep["vms"]["vm2"]["rx"]
        self.assertEqual(rx["valid"], sum(counts), rx)
        self.assertEqual(rx["per_queue"], counts, rx)
        self.assertEqual(pmd_sum(self.sw, "affinity_hits") - hits0, sum(counts))
        self.assertEqual(pmd_sum(self.sw, "affinity_misses") - miss0, 0)
        self.assertEqual(pmd_sum(self.sw, "tx_shared_locks"), 0)

    # ------------------------------------------------------------------ 5. isolation

    def test_tenant_isolation_overlapping_addresses_under_load(self):
        """Tenants A (VNI 5001 -> vm1) and B (5002 -> vm2) use identical inner MACs, IPs
        and ports; vm3/vm4/vm5 send A, B and an unknown VNI (5003) at the same time
        through the looped uplink. Each VM gets its tenant's stream and nothing else;
        every frame is delivered to its tenant or counted."""
        # 4 uplink queues: each sender has its own ring, so the loop does not put three
        # senders into one 1024-slot ring drained 32 at a time.
        self.self_vtep(queues=4)
        for vm in ("vm1", "vm2", "vm3", "vm4", "vm5"):
            self.vm_port(vm)
        self.add_flows([
            "in_port=vm3,actions=" + self.encap_to(5001, dst=LOCAL_IP),
            "in_port=vm4,actions=" + self.encap_to(5002, dst=LOCAL_IP),
            "in_port=vm5,actions=" + self.encap_to(5003, dst=LOCAL_IP),
            "priority=100,in_port=vxlan0,tun_id=5001,actions=output:vm1",
            "priority=100,in_port=vxlan0,tun_id=5002,actions=output:vm2",
            "priority=1,in_port=vxlan0,actions=drop:vpc_unknown_vni",
        ])
        n = 15000
        same = "dst=02:00:00:00:aa:02,src=02:00:00:00:aa:01,src_ip=10.9.0.1,dst_ip=10.9.0.2,sport=1000,flows=8"
        rep = self.run_traffic(
            [self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2), self.vm_spec("vm3", mac=MAC3, ring=1024),
             self.vm_spec("vm4", mac=MAC4, ring=1024), self.vm_spec("vm5", mac=MAC5, ring=1024)],
            ["--send", "vm3:%s,count=%d,rate=15000,stream=1" % (same, n),
             "--send", "vm4:%s,count=%d,rate=15000,stream=2" % (same, n),
             "--send", "vm5:%s,count=%d,rate=15000,stream=3" % (same, n),
             # Expecting all: a run that loses some waits out the timeout, so nothing is
             # still in flight when the counters are read.
             "--recv", "vm1:expect=%d,timeout=10" % n, "--recv", "vm2:expect=%d,timeout=10" % n,
             "--start-delay", "1"]).run()
        drops = {p: self.sw.drops(p) for p in ("up0", "vm1", "vm2", "vm3", "vm4", "vm5")}
        why = (drops, rep["vms"]["vm1"]["rx"], rep["vms"]["vm2"]["rx"])
        for vm in ("vm3", "vm4", "vm5"):
            self.assertEqual(rep["vms"][vm]["tx"]["packets"], n, vm)
            self.assertEqual(rep["vms"][vm]["rx"]["packets"], 0, vm)
        for vm, stream in (("vm1", 1), ("vm2", 2)):
            rx = rep["vms"][vm]["rx"]
            # Only its own tenant's frames, intact; a frame of the other tenant would be
            # a second stream, anything unparseable 'foreign'.
            self.assertEqual([s["stream"] for s in rx["streams"]], [stream], (vm, rx["streams"]))
            self.assertEqual((rx["packets"], rx["foreign"], rx["bad_payload"], rx["dup"]),
                             (rx["valid"], 0, 0, 0), why)
            self.assertGreaterEqual(rx["valid"], n * 9 // 10, why)
        # Every frame accounted for: delivered, refused as an unknown VNI, or (only on a
        # starved machine) a full ring. Normally all 3n arrive or are refused.
        unknown = drops["up0"].get("vpc_unknown_vni", 0)
        full = sum(d.get("tx_full", 0) for d in drops.values())
        delivered = rep["vms"]["vm1"]["rx"]["valid"] + rep["vms"]["vm2"]["rx"]["valid"]
        self.assertEqual(delivered + unknown + full, 3 * n, why)
        self.assertGreaterEqual(unknown, n * 9 // 10, why)
        self.assertEqual(sum(sum(d.values()) for d in drops.values()), unknown + full, why)
        self.assertEqual(pmd_drops(self.sw, "vpc_unknown_vni"), unknown)
        # The drop rule's counter agrees.
        drop_rule = [c for (m, a), c in self.flow_packets().items() if a == "drop:vpc_unknown_vni"]
        self.assertEqual(drop_rule, [unknown])

    # ------------------------------------------------------------------ VPC gateway

    def vm1_exchange(self, reqs, name):
        """Replays reqs from vm1; returns the frames it got back, decoded."""
        path = os.path.join(self.dir, name + ".pcap")
        wrpcap(path, reqs)
        cap = os.path.join(self.dir, name + "-answers.pcap")
        self.run_traffic([self.vm_spec("vm1", mac=MAC1)], [
            "--replay", "vm1:%s,rate=50" % path, "--capture", "vm1:" + cap, "--drain", "2"]).run()
        return [Ether(f) for f in frames(cap)]

    def test_vpc_gateway_answers_ping(self):
        """A VM pings its gateway and the other subnet's: the switch answers, byte for
        byte the reply (checksums right, payload returned); a ping to nobody is not. A
        routed packet with TTL 1 gets scapy's "time exceeded" from the VM's gateway."""
        self.vm_port("vm1")
        for args in (["create", "blue", "vni=5001"],
                     ["add-subnet", "blue", "10.1.0.0/24", "gateway=10.1.0.1"],
                     ["add-subnet", "blue", "10.1.1.0/24", "gateway=10.1.1.1"],
                     ["bind", "blue", "vm1", "mac=" + MAC1, "ip=10.1.0.11"]):
            self.sw.ctl("vpc", *args)
        rmac = "0a:56:00:00:13:89"   # the VPC's router MAC: 0a:56 and the VNI
        reqs = [Ether(src=MAC1, dst=rmac) / IP(src="10.1.0.11", dst=dst, ttl=64, flags="DF", id=100 + i) /
                ICMP(type=8, id=0x77, seq=i) / Raw(b"gateway-ping-%d" % i + bytes(40))
                for i, dst in enumerate(["10.1.0.1", "10.1.1.1", "10.1.0.99", "10.1.0.1"])]
        got = self.vm1_exchange(reqs, "pings")
        want = []
        for i in (0, 1, 3):   # 10.1.0.99 is no one: not answered
            q = reqs[i]
            r = Ether(src=rmac, dst=MAC1) / IP(src=q[IP].dst, dst="10.1.0.11", ttl=64, flags="DF", id=100 + i) / \
                ICMP(type=0, id=0x77, seq=i) / Raw(bytes(q[Raw]))
            want.append(bytes(r))   # scapy computes both checksums
        self.assertEqual([bytes(p) for p in got], want, [p.summary() for p in got])
        self.assertEqual(self.sw.drops("vm1").get("vpc_no_route", 0), 1)

        # Routed with TTL 1 (traceroute's first probe): "time exceeded" from vm1's own
        # gateway, quoting the probe; TTL 2 is routed on (and finds no one here).
        probes = [Ether(src=MAC1, dst=rmac) / IP(src="10.1.0.11", dst="10.1.1.50", ttl=ttl, id=200 + ttl) /
                  UDP(sport=40000, dport=33434 + ttl) / Raw(b"probe" + bytes(20)) for ttl in (1, 2, 1)]
        got = self.vm1_exchange(probes, "ttl")
        want = []
        for q in (probes[0], probes[2]):
            quote = bytes(q[IP])[:20 + 8]
            want.append(bytes(Ether(src=rmac, dst=MAC1) / IP(src="10.1.0.1", dst="10.1.0.11", tos=0xc0, ttl=64, id=0) /
                              ICMP(type=11, code=0) / Raw(quote)))
        self.assertEqual([bytes(p) for p in got], want, [p.summary() for p in got])
        self.assertEqual(self.sw.drops("vm1").get("vpc_no_route", 0), 2)
        self.assertEqual(int(self.sw.json("vpc", "stats", "blue")["vpcs"][0]["ttl_expired"]), 2)

    # ------------------------------------------------------------------ VPC DHCP

    def dhcp_vpc(self, port, mac, ip="10.1.0.11", subnet_opts=()):
        for args in (["create", "blue", "vni=5001"],
                     ["add-subnet", "blue", "10.1.0.0/24", "gateway=10.1.0.1"] + list(subnet_opts),
                     ["bind", "blue", port, "mac=" + mac, "ip=" + ip]):
            self.sw.ctl("vpc", *args)

    def test_vpc_dhcp_answers_each_request(self):
        """vm1's DHCP requests (scapy): DISCOVER -> OFFER, REQUEST -> ACK or NAK, renewal
        -> ACK, RELEASE taken (dhcp_consumed), a chaddr that is not the sender refused
        (action_failed). Every answer checked field by field with valid checksums; the
        MTU offered follows set-uplink's."""
        self.vm_port("vm1")
        self.dhcp_vpc("vm1", MAC1)
        rmac = "0a:56:00:00:13:89"
        chaddr = bytes.fromhex(MAC1.replace(":", ""))

        def req(xid, options, src="0.0.0.0", dst="255.255.255.255", dl_dst="ff:ff:ff:ff:ff:ff", ciaddr="0.0.0.0",
                ch=chaddr):
            return (Ether(src=MAC1, dst=dl_dst) / IP(src=src, dst=dst) / UDP(sport=68, dport=67) /
                    BOOTP(op=1, xid=xid, ciaddr=ciaddr, chaddr=ch) / DHCP(options=options + ["end"]))

        reqs = [
            req(1, [("message-type", "discover"), ("param_req_list", [1, 3, 6, 26])]),
            req(2, [("message-type", "request"), ("requested_addr", "10.1.0.11"), ("server_id", "10.1.0.1")]),
            req(3, [("message-type", "request"), ("requested_addr", "10.1.0.99")]),
            req(4, [("message-type", "request")], src="10.1.0.11", dst="10.1.0.1", dl_dst=rmac, ciaddr="10.1.0.11"),
            req(5, [("message-type", "release"), ("server_id", "10.1.0.1")], src="10.1.0.11", dst="10.1.0.1",
                dl_dst=rmac, ciaddr="10.1.0.11"),
            req(6, [("message-type", "discover")], ch=bytes.fromhex("525400000099")),
        ]
        got = self.vm1_exchange(reqs, "dhcp")
        self.assertEqual([p[BOOTP].xid for p in got], [1, 2, 3, 4], [p.summary() for p in got])

        def opts(p):
            return {o[0]: o[1] for o in p[DHCP].options if isinstance(o, tuple)}

        for p in got:
            self.assertEqual(p.src, rmac)
            self.assertEqual((p[IP].src, p[IP].ttl, p[UDP].sport, p[UDP].dport), ("10.1.0.1", 64, 67, 68))
            self.assertEqual((p[BOOTP].op, p[BOOTP].chaddr[:6]), (2, chaddr))
            self.assertGreaterEqual(len(p[UDP].payload), 300)
            # Checksums: scapy's own, from scratch, equal the switch's.
            raw = bytes(p)
            q = Ether(raw)
            del q[IP].chksum
            del q[UDP].chksum
            self.assertEqual(bytes(q), raw)
        offer, ack, nak, renew = got
        full = {"message-type": None, "server_id": "10.1.0.1", "lease_time": 86400, "renewal_time": 43200,
                "rebinding_time": 75600, "subnet_mask": "255.255.255.0", "router": "10.1.0.1",
                "interface-mtu": 1450}
        self.assertEqual(opts(offer), dict(full, **{"message-type": 2}))
        self.assertEqual((offer.dst, offer[IP].dst, offer[BOOTP].yiaddr), (MAC1, "10.1.0.11", "10.1.0.11"))
        self.assertEqual(opts(ack), dict(full, **{"message-type": 5}))
        self.assertEqual(opts(nak), {"message-type": 6, "server_id": "10.1.0.1"})
        self.assertEqual((nak.dst, nak[IP].dst, nak[BOOTP].yiaddr), ("ff:ff:ff:ff:ff:ff", "255.255.255.255", "0.0.0.0"))
        self.assertEqual(opts(renew)["message-type"], 5)
        self.assertEqual((renew[IP].dst, renew[BOOTP].ciaddr, renew[BOOTP].yiaddr), ("10.1.0.11",) * 3)
        self.assertEqual(self.sw.drops("vm1").get("dhcp_consumed", 0), 1)
        self.assertEqual(self.sw.drops("vm1").get("action_failed", 0), 1)
        stats = self.sw.json("vpc", "stats", "blue")["vpcs"][0]
        self.assertEqual(int(stats["dhcp_answered"]), 6)   # the rule's packets: answered or not
        # trace shows the answer's content (troubleshooting.md's recipe).
        trace = self.sw.ctl("trace", "in_port=vm1,dl_src=%s,udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,"
                                     "tp_src=68,tp_dst=67" % MAC1)
        self.assertIn("dhcp_reply(ip=10.1.0.11,mask=255.255.255.0,server=10.1.0.1,router=10.1.0.1,mtu=1450,"
                      "lease=86400),output:vm1", trace)

        # An underlay with a bigger MTU: the VMs are told theirs.
        self.assertEqual(self.sw.json("vpc", "show", "blue")["vpcs"][0]["vm_mtu"], 1450)
        self.self_vtep(mtu=1600)
        self.assertEqual(self.sw.json("vpc", "show", "blue")["vpcs"][0]["vm_mtu"], 1550)
        got = self.vm1_exchange([reqs[0]], "dhcp-mtu")
        self.assertEqual(len(got), 1)
        self.assertEqual(opts(got[0])["interface-mtu"], 1550)

    def test_vpc_dhcp_configures_a_linux_client(self):
        """busybox udhcpc in a namespace, behind an af_packet port bound to the VPC, gets
        its address, mask, gateway, MTU and lease from the switch; configured so, it
        pings the gateway and traceroute shows the gateway as hop 1. A release (-R) is
        taken as dhcp_consumed."""
        ns = self.netns()
        sw_if, peer = self.veth(peer_ns=ns)
        mac = netns_exec(ns, "cat", "/sys/class/net/%s/address" % peer).stdout.strip()
        self.sw.ctl("add-port", "vm9", "type=dpdk", "devargs=net_af_packet1,iface=" + sw_if)
        self.dhcp_vpc("vm9", mac, ip="10.1.0.21", subnet_opts=["dns=10.1.0.2,192.0.2.53"])
        env = os.path.join(self.dir, "udhcpc.env")
        script = os.path.join(self.dir, "udhcpc.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n"
                    "[ \"$1\" = bound ] || exit 0\n"
                    "env | grep -E '^(ip|subnet|mask|router|mtu|lease|serverid|dns)=' | sort > %s\n"
                    "ip link set dev \"$interface\" mtu \"$mtu\"\n"
                    "ip addr add \"$ip/$mask\" dev \"$interface\"\n"
                    "ip route add default via \"$router\"\n" % env)
        os.chmod(script, 0o755)
        r = netns_exec(ns, "busybox", "udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "1", "-i", peer, "-s", script,
                       check=False, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(env) as f:
            got = dict(line.strip().split("=", 1) for line in f if "=" in line)
        self.assertEqual(got, {"ip": "10.1.0.21", "subnet": "255.255.255.0", "mask": "24", "router": "10.1.0.1",
                               "mtu": "1450", "lease": "86400", "serverid": "10.1.0.1",
                               "dns": "10.1.0.2 192.0.2.53"})
        link = netns_exec(ns, "ip", "-o", "addr", "show", "dev", peer).stdout
        self.assertIn("inet 10.1.0.21/24", link)
        out, received = netns_ping(ns, "10.1.0.1", 3)
        self.assertEqual(received, 3, out)
        # traceroute through the VPC router: hop 1 is the gateway (ICMP time exceeded),
        # hop 2 nobody (10.1.1.50 is no one's: vpc_no_route).
        r = netns_exec(ns, "busybox", "traceroute", "-n", "-m", "2", "-q", "1", "-w", "1", "10.1.1.50",
                       check=False, timeout=30)
        hops = [line.split()[:2] for line in r.stdout.splitlines() if line.strip()[:1].isdigit()]
        self.assertEqual(hops, [["1", "10.1.0.1"], ["2", "*"]], r.stdout + r.stderr)
        # Running with -R: it releases its lease when told to stop.
        before = self.sw.drops("vm9").get("dhcp_consumed", 0)
        os.unlink(env)
        client = subprocess.Popen(["ip", "netns", "exec", ns, "busybox", "udhcpc", "-f", "-R", "-t", "5", "-T", "1",
                                   "-i", peer, "-s", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(client.kill)
        wait_for(lambda: os.path.exists(env), timeout=15, what="a second lease")
        client.terminate()
        client.wait(timeout=10)
        wait_for(lambda: self.sw.drops("vm9").get("dhcp_consumed", 0) == before + 1, timeout=5,
                 what="the release counted", state=lambda: self.sw.drops("vm9"))

    # ------------------------------------------------------------------ 6. MTU

    def test_underlay_mtu_frag_needed(self):
        """mtu=1400: a 1364-byte frame makes a 1400-byte outer packet and passes; 1365 and
        1400 are dropped as tunnel_mtu_exceeded, and with DF the VM gets ICMP type 3
        code 4 quoting its packet, next-hop MTU 1350. Without DF: dropped, no ICMP."""
        self.self_vtep(mtu=1400)
        self.assertEqual(self.sw.json("show-uplink")["mtu"], 1400)
        self.vm_port("vm1")
        self.vm_port("vm2")
        self.add_flows([
            "in_port=vm1,actions=" + self.encap_to(VNI, dst=LOCAL_IP),
            "in_port=vxlan0,tun_id=%d,actions=output:vm2" % VNI,
        ])
        no_df = os.path.join(self.dir, "no-df.pcap")
        wrpcap(no_df, [Ether(src=MAC1, dst=MAC2) / IP(src="10.0.0.1", dst="10.0.0.2", flags=0, id=i) /
                       UDP(sport=7000, dport=7001) / Raw(bytes(1400 - 42)) for i in range(10)])
        cap = os.path.join(self.dir, "vm1-icmp.pcap")
        rep = self.run_traffic([self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)], [
            "--send", "vm1:dst=%s,size=1364,count=100,rate=5000,stream=1" % MAC2,
            "--send", "vm1:dst=%s,size=1365,count=30,rate=5000,stream=2,sport=3000" % MAC2,
            "--send", "vm1:dst=%s,size=1400,count=20,rate=5000,stream=3,sport=4000" % MAC2,
            "--replay", "vm1:%s,rate=5000" % no_df,
            "--recv", "vm2:expect=100,timeout=10", "--capture", "vm1:" + cap, "--start-delay", "1"]).run()
        rx = rep["vms"]["vm2"]["rx"]
        self.assertEqual((rx["valid"], rx["packets"]), (100, 100), rx)
        self.assertEqual([s["stream"] for s in rx["streams"]], [1])
        self.assertEqual(self.sw.drops("vm1").get("tunnel_mtu_exceeded"), 60)
        self.assertEqual(pmd_drops(self.sw, "tunnel_mtu_exceeded"), 60)
        # The ICMP errors, one per DF packet refused (the capture is complete: the run
        # ended after its drain, and the switch sends them synchronously).
        icmp = [Ether(f) for f in frames(cap)]
        self.assertEqual(len(icmp), 50, [p.summary() for p in icmp[:5]])
        sizes = {}
        for p in icmp:
            self.assertEqual((p.src, p.dst), (MAC2.lower(), MAC1.lower()))
            self.assertEqual((p[IP].src, p[IP].dst, p[IP].proto), ("10.0.0.2", "10.0.0.1", 1))
            c = p[IP].chksum
            del p[IP].chksum
            self.assertEqual(IP(bytes(p[IP]))[IP].chksum, c)
            self.assertEqual((p[ICMP].type, p[ICMP].code, p[ICMP].nexthopmtu), (3, 4, 1350))
            quoted = p[ICMP].payload            # the refused packet's IP header + 8 bytes
            self.assertEqual((quoted.src, quoted.dst, quoted.flags.DF), ("10.0.0.1", "10.0.0.2", True))
            self.assertEqual(len(bytes(quoted)), 28)
            sizes[quoted.len] = sizes.get(quoted.len, 0) + 1
        self.assertEqual(sizes, {1365 - 14: 30, 1400 - 14: 20})
        dp = " ".join(f["actions"] for f in self.sw.json("dump-dpflows")["flows"])
        self.assertIn("mtu=1400)", dp)

    # ------------------------------------------------------------------ 7. persistence

    def uplink_state(self):
        """show-uplink without what moves by itself (neighbor ages)."""
        u = self.sw.json("show-uplink")
        for n in u["neighbors"]:
            n.pop("age_s", None)
        return u

    def ports(self):
        return [(p["name"], p["type"], p["options"]) for p in self.sw.json("show")["ports"]]

    def test_uplink_and_static_neighbors_survive_restart(self):
        self.sw.ctl("add-port", "up0", "type=dpdk", "devargs=net_ring0", "mac=" + UPLINK_MAC)
        self.sw.ctl("set-uplink", "up0", "local-ip=%s/24" % LOCAL_IP, "gateway=192.0.2.254", "mtu=1450")
        self.sw.ctl("add-neighbor", "up0", LOCAL_IP, UPLINK_MAC)
        self.sw.ctl("add-neighbor", "up0", "192.0.2.254", "02:00:00:00:02:fe")
        self.vm_port("vm1")
        self.vm_port("vm2")
        self.add_flows([
            "in_port=vm1,actions=" + self.encap_to(VNI, dst=LOCAL_IP),
            "in_port=vxlan0,tun_id=%d,actions=output:vm2" % VNI,
        ])
        before = self.uplink_state()
        self.assertEqual(before["uplink"], {"port": "up0", "local_ip": LOCAL_IP + "/24",
                                            "gateway": "192.0.2.254", "mtu": 1450})
        self.assertEqual(sorted((n["ip"], n["mac"], n["is_static"]) for n in before["neighbors"]),
                         [(LOCAL_IP, UPLINK_MAC, True), ("192.0.2.254", "02:00:00:00:02:fe", True)])
        self.assertEqual([t.split()[0] for t in before["tunnel_ports"]], ["vxlan0", "gre0"])
        ports = self.ports()
        for how in ("stop", "kill"):        # a clean restart, then a crash
            getattr(self.sw, how)()
            self.sw.start()
            self.assertEqual(self.uplink_state(), before, how)
            self.assertEqual(self.ports(), ports, how)
        # And it works: vm1 -> vxlan0 (mtu 1450, the static neighbor) -> ring -> vm2.
        rep = self.run_traffic([self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)], [
            "--send", "vm1:dst=%s,count=500,rate=10000" % MAC2, "--recv", "vm2:expect=500,timeout=10",
            "--start-delay", "1"]).run()
        self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], 500)
        dp = " ".join(f["actions"] for f in self.sw.json("dump-dpflows")["flows"])
        self.assertIn("tunnel_push(vxlan,dst_port=4789,key=%d,src=%s,dst=%s,eth_dst=%s,mtu=1450)" % (
            VNI, LOCAL_IP, LOCAL_IP, UPLINK_MAC), dp)
        self.assertIn("tunnel_pop(vxlan0)", dp)

    # ------------------------------------------------------------------ 8. bad input

    def test_bad_uplink_and_neighbor_input_changes_nothing(self):
        self.sw.ctl("add-port", "up0", "type=dpdk", "devargs=net_ring0", "mac=" + UPLINK_MAC)
        self.sw.ctl("add-port", "nomac", "type=dpdk", "devargs=net_ring1")
        self.vm_port("vm1")

        def refused(args, *needles):
            err = self.sw.ctl_fail(*args)
            for s in needles:
                self.assertIn(s, err, (args, err))
            self.assertEqual(self.uplink_state(), state, args)
            self.assertEqual(self.ports(), ports, args)

        # Before any uplink: nothing is created by a refused set-uplink.
        state, ports = self.uplink_state(), self.ports()
        self.assertFalse(state["configured"])
        refused(["set-uplink", "nope", "local-ip=" + LOCAL_IP], "no port named 'nope'")
        refused(["set-uplink", "nomac", "local-ip=" + LOCAL_IP], "00:00:00:00:00:00", "mac=")
        refused(["add-neighbor", "up0", REMOTE_IP, REMOTE_MAC], "not the uplink")

        self.sw.ctl("set-uplink", "up0", "local-ip=%s/24" % LOCAL_IP, "mtu=1500")
        self.sw.ctl("add-neighbor", "up0", REMOTE_IP, REMOTE_MAC)
        state, ports = self.uplink_state(), self.ports()
        self.assertTrue(state["configured"])
        cases = [
            (["set-uplink", "nope", "local-ip=" + LOCAL_IP], ["no port named 'nope'"]),
            (["set-uplink", "up0", "local-ip=300.1.2.3"], ["300.1.2.3", "not a unicast IPv4 address"]),
            (["set-uplink", "up0", "local-ip=224.0.0.5"], ["224.0.0.5", "not a unicast IPv4 address"]),
            (["set-uplink", "up0", "local-ip=0.0.0.0"], ["not a unicast IPv4 address"]),
            (["set-uplink", "up0", "local-ip=192.0.2.1/33"], ["prefix length"]),
            (["set-uplink", "up0", "local-ip=192.0.2.9", "gateway=nowhere"], ["nowhere"]),
            (["set-uplink", "up0", "local-ip=192.0.2.9", "mtu=575"], ["mtu", "576..9600"]),
            (["set-uplink", "up0", "local-ip=192.0.2.9", "mtu=9601"], ["mtu", "576..9600"]),
            (["set-uplink", "up0", "local-ip=192.0.2.9", "mtu=big"], ["mtu"]),
            (["set-uplink", "up0", "mtu=1400"], ["local-ip"]),
            (["set-uplink", "vxlan0", "local-ip=192.0.2.9"], ["'vxlan0' is a tunnel port"]),
            (["set-uplink", "gre0", "local-ip=192.0.2.9"], ["'gre0' is a tunnel port"]),
            (["set-uplink", "nomac", "local-ip=192.0.2.9"], ["00:00:00:00:00:00"]),
            (["add-neighbor", "up0", "192.0.2.7", "zz:00:00:00:00:01"], ["zz:00:00:00:00:01", "not a unicast MAC"]),
            (["add-neighbor", "up0", "192.0.2.7", "01:00:5e:00:00:01"], ["not a unicast MAC"]),
            (["add-neighbor", "up0", "192.0.2.7", "00:00:00:00:00:00"], ["not a unicast MAC"]),
            (["add-neighbor", "up0", "192.0.2.300", "02:00:00:00:00:07"], ["192.0.2.300", "not an IPv4 address"]),
            (["add-neighbor", "vm1", "192.0.2.7", "02:00:00:00:00:07"], ["'vm1' is not the uplink"]),
            (["add-neighbor", "nope", "192.0.2.7", "02:00:00:00:00:07"], ["'nope' is not the uplink"]),
            (["del-port", "up0"], ["'up0' is the uplink", "del-uplink first"]),
        ]
        for args, needles in cases:
            refused(args, *needles)
        # Nothing reached the state file either.
        self.sw.stop()
        self.sw.start()
        self.assertEqual(self.uplink_state(), state)
        self.assertEqual(self.ports(), ports)


if __name__ == "__main__":
    unittest.main(verbosity=2)
