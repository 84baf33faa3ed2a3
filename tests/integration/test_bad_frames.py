#!/usr/bin/python3
"""Runt, oversized and garbage frames are dropped and counted by name; the switch keeps
forwarding good traffic."""
import os
import struct
import unittest

from harness import MAC1, MAC2, SwitchTestCase


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ipv4(payload, proto=17, ver_ihl=0x45, total=None, src="10.0.0.1", dst="10.0.0.2"):
    total = 20 + len(payload) if total is None else total
    a = bytes(int(x) for x in src.split("."))
    b = bytes(int(x) for x in dst.split("."))
    h = struct.pack("!BBHHHBBH4s4s", ver_ihl, 0, total, 1, 0, 64, proto, 0, a, b)
    return h + payload


def eth(payload, ethertype=0x0800):
    return mac(MAC2) + mac(MAC1) + struct.pack("!H", ethertype) + payload


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


GOOD = eth(ipv4(struct.pack("!HHHH", 1000, 2000, 8 + 18, 0) + b"x" * 18))
BAD = {
    "rx_runt": [b"\x01" * 10, mac(MAC2) + mac(MAC1) + b"\x81\x00\x00"],      # < 14 B; VLAN tag cut
    "rx_oversize": [eth(b"\x00" * 1600), eth(b"\x00" * 2000)],               # > 1500 MTU
    "rx_malformed": [
        eth(ipv4(b"\x00" * 20, ver_ihl=0x55)),                               # IP version 5
        eth(ipv4(b"\x00" * 20, ver_ihl=0x43)),                               # IHL 3
        eth(ipv4(b"\x00" * 20, total=10)),                                   # total < header
        eth(ipv4(b"\x00" * 20, total=400)),                                  # total > frame
        eth(ipv4(b"\x00\x50\x00", proto=6)),                                 # TCP header cut
        eth(b"\x60\x00", ethertype=0x86dd),                                  # IPv6 header cut
    ],
}


class BadFrames(SwitchTestCase):
    def test_bad_frames_dropped_and_counted(self):
        self.vm_port("vm1")
        self.vm_port("vm2")
        self.sw.ctl("add-flow", "in_port=vm1,actions=output:vm2")
        frames = [GOOD]
        for fl in BAD.values():
            frames += fl
        frames.append(GOOD)
        pcap = os.path.join(self.dir, "bad.pcap")
        write_pcap(pcap, frames * 10)
        self.run_traffic([self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)],
                         ["--replay", "vm1:" + pcap, "--capture", "vm2:" + os.path.join(self.dir, "out.pcap")]).run()
        drops = self.sw.drops("vm1")
        for reason, fl in BAD.items():
            self.assertEqual(drops.get(reason, 0), 10 * len(fl), (reason, drops))
        vm2 = self.sw.port("vm2")
        self.assertEqual(int(vm2["tx_packets"]), 20, vm2)
        self.assertEqual(int(self.sw.port("vm1")["rx_dropped"]), 10 * sum(len(f) for f in BAD.values()))
        pmd_drops = {k: int(v) for k, v in self.sw.pmd()[0]["drops"].items()}
        for reason, fl in BAD.items():
            self.assertEqual(pmd_drops[reason], 10 * len(fl))
        # Still alive and forwarding, byte-exact.
        rep = self.run_traffic([self.vm_spec("vm1", mac=MAC1), self.vm_spec("vm2", mac=MAC2)],
                               ["--send", "vm1:dst=%s,count=1000,rate=50000" % MAC2,
                                "--recv", "vm2:expect=1000,timeout=5"]).run()
        self.assertEqual(rep["vms"]["vm2"]["rx"]["valid"], 1000)
        self.assertAlive()


if __name__ == "__main__":
    unittest.main(verbosity=2)
