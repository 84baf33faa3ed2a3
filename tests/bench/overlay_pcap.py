#!/usr/bin/python3
# Writes the pcap files the decapsulation scenarios of tests/bench/bench.sh (Cd, Gd, R) replay into the
# switch's uplink with DPDK's net_pcap (rx_pcap=FILE,infinite_rx=1):
#   DIR/vxlan.pcap  VXLAN (UDP 4789, VNI 42) from the remote VTEP 172.31.255.2 to the local 172.31.255.1
#   DIR/gre.pcap    GRE with key 42 (protocol 0x6558), same addresses
# Outer Ethernet: 02:00:00:00:ff:02 (remote VTEP) -> 02:00:00:00:ff:01, the VTEP MAC both switches are
# given (OVS's native tunnel termination matches the destination MAC of the bridge that holds the IP).
# Outer IPv4 DF, TTL 64, VXLAN UDP checksum 0 (what both switches send). The inner frame is 64 bytes,
# like testpmd's --txpkts=64 in the encapsulation scenarios: Ethernet + IPv4 + UDP 10.0.0.2:1234 ->
# 10.0.0.1:80 + 22 zero bytes; one flow. Each file holds COUNT copies (default 64: net_pcap keeps them
# in mbufs of the switch's own pool and sends them round and round).
# Needs scapy (Debian python3-scapy, installed by ctl/scripts/install-deps.sh).
import sys

from scapy.all import IP, UDP, Ether, Raw, wrpcap
from scapy.layers.l2 import GRE
from scapy.layers.vxlan import VXLAN

out = sys.argv[1] if len(sys.argv) > 1 else "."
count = int(sys.argv[2]) if len(sys.argv) > 2 else 64

inner = Ether(src="02:00:00:00:01:02", dst="02:00:00:00:00:10") / \
    IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=1234, dport=80)
inner = inner / Raw(b"\0" * (64 - len(inner)))
outer = Ether(src="02:00:00:00:ff:02", dst="02:00:00:00:ff:01") / \
    IP(src="172.31.255.2", dst="172.31.255.1", flags="DF", ttl=64)
frames = {
    "vxlan": outer / UDP(sport=50000, dport=4789, chksum=0) / VXLAN(flags=0x08, vni=42) / inner,
    "gre": outer / GRE(key_present=1, key=42, proto=0x6558) / inner,
}
for name, f in frames.items():
    f = Ether(bytes(f))   # checksums and lengths final
    assert len(bytes(inner)) == 64
    wrpcap(f"{out}/{name}.pcap", [f] * count)
    print(f"{out}/{name}.pcap: {count} x {len(f)} bytes ({name}, inner 64)")
