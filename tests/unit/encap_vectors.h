// Expected packets for the encap tests, produced by scapy 2.5 (Debian 12 python3-scapy),
// never by the code under test. Each vector's generating snippet sits next to its hex;
// to regenerate one, run under /usr/bin/python3:
//
//   from scapy.all import *
//   def eport(h): return 0xc000 | ((h ^ (h >> 14) ^ (h >> 28)) & 0x3fff)   # entropy_port()
//   inner = Ether(src='52:54:00:00:00:01', dst='52:54:00:00:00:02')/IP(src='10.0.0.1',
//                 dst='10.0.0.2')/UDP(sport=1234, dport=80)/Raw(b'x'*18)
//   p = <snippet>
//   print(bytes(p).hex())
//
// The eport() above restates entropy_port()'s formula so that the expected outer source
// port comes from scapy's side too; the port's range and spread are tested separately.
#pragma once

#include "encap_util.h"

namespace encap_test::vec {

// The 60-byte inner frame every tunnel vector carries: `inner` above.
inline Bytes inner() {
    return hex("52540000000252540000000108004500002e00010000401166bc0a0000010a00"
               "000204d20050001aaa59787878787878787878787878787878787878");
}

// Outer headers of the push vectors: TunnelSpec with these values.
inline constexpr uint8_t kUplinkMac[6] = {0x02, 0, 0, 0, 0, 0x01};
inline constexpr uint8_t kNextHopMac[6] = {0x02, 0, 0, 0, 0, 0xfe};
inline const uint32_t kLocalIp = ipv4(192, 168, 1, 1);
inline const uint32_t kRemoteIp = ipv4(192, 168, 1, 2);
inline constexpr uint32_t kVni = 5001;
inline constexpr uint32_t kHash = 0x12345678;   // inner_hash given to push()

// Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:fe')/IP(src='192.168.1.1',
//   dst='192.168.1.2', ttl=64, flags='DF', id=0)/UDP(sport=eport(0x12345678), dport=4789,
//   chksum=0)/VXLAN(vni=5001, flags=0x08)/inner
inline Bytes vxlan() {
    return hex("0200000000fe020000000001080045000060000040004011b739c0a80101c0a8"
               "0102dea812b5004c000008000000001389005254000000025254000000010800"
               "4500002e00010000401166bc0a0000010a00000204d20050001aaa5978787878"
               "7878787878787878787878787878");
}

// Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:fe')/IP(src='192.168.1.1',
//   dst='192.168.1.2', ttl=64, flags='DF', id=0, proto=47)/GRE(key_present=1, key=5001,
//   proto=0x6558)/inner
inline Bytes gre() {
    return hex("0200000000fe02000000000108004500005800004000402fb723c0a80101c0a8"
               "0102200065580000138952540000000252540000000108004500002e00010000"
               "401166bc0a0000010a00000204d20050001aaa59787878787878787878787878"
               "787878787878");
}

// TOS, no DF, TTL 17, Linux's port 8472, the largest VNI, inner_hash 0:
// Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:fe')/IP(src='192.168.1.1',
//   dst='192.168.1.2', ttl=17, tos=0xb8, flags=0, id=0)/UDP(sport=eport(0), dport=8472,
//   chksum=0)/VXLAN(vni=0xffffff, flags=0x08)/inner
inline Bytes vxlan_tos_nodf() {
    return hex("0200000000fe020000000001080045b800600000000011112582c0a80101c0a8"
               "0102c0002118004c000008000000ffffff005254000000025254000000010800"
               "4500002e00010000401166bc0a0000010a00000204d20050001aaa5978787878"
               "7878787878787878787878787878");
}

// A 32-bit GRE key: same as gre() with GRE(key_present=1, key=0xdeadbeef, proto=0x6558)
inline Bytes gre_key_max() {
    return hex("0200000000fe02000000000108004500005800004000402fb723c0a80101c0a8"
               "010220006558deadbeef52540000000252540000000108004500002e00010000"
               "401166bc0a0000010a00000204d20050001aaa59787878787878787878787878"
               "787878787878");
}

// Received, not pushed: outer IP options and a (nonzero) UDP checksum.
// Ether(src='02:00:00:00:00:fe', dst='02:00:00:00:00:01')/IP(src='192.168.1.2',
//   dst='192.168.1.1', ttl=60, id=777, options=IPOption(b'\x01\x01\x01\x00'))/
//   UDP(sport=50000, dport=4789)/VXLAN(vni=42, flags=0x08)/inner
inline Bytes vxlan_udpcsum_opts() {
    return hex("0200000000010200000000fe080046000064030900003c11f52bc0a80102c0a8"
               "010101010100c35012b5004cdb7e0800000000002a0052540000000252540000"
               "000108004500002e00010000401166bc0a0000010a00000204d20050001aaa59"
               "787878787878787878787878787878787878");
}

// GRE with checksum, key and sequence number (RFC 2890 order C, K, S):
// Ether(src='02:00:00:00:00:fe', dst='02:00:00:00:00:01')/IP(src='192.168.1.2',
//   dst='192.168.1.1', proto=47)/GRE(chksum_present=1, key_present=1, seqnum_present=1,
//   key=7, sequence_number=99, proto=0x6558)/inner
inline Bytes gre_csum_seq() {
    return hex("0200000000010200000000fe08004500006000010000402ff71ac0a80102c0a8"
               "0101b000655851bf000000000007000000635254000000025254000000010800"
               "4500002e00010000401166bc0a0000010a00000204d20050001aaa5978787878"
               "7878787878787878787878787878");
}

// GRE without a key, carrying a bare 14-byte frame, padded to 74 bytes after the IP
// datagram (IP total length 38):
// Ether(src='02:00:00:00:00:fe', dst='02:00:00:00:00:01')/IP(src='192.168.1.2',
//   dst='192.168.1.1', proto=47)/GRE(proto=0x6558)/Ether(src='52:54:00:00:00:01',
//   dst='52:54:00:00:00:02', type=0x88b5)/Padding(b'\0'*22)
inline Bytes gre_nokey_padded() {
    return hex("0200000000010200000000fe08004500002600010000402ff754c0a80102c0a8"
               "01010000655852540000000252540000000188b5000000000000000000000000"
               "00000000000000000000");
}

// ---------------------------------------------------------------- ICMP frag-needed

// orig = Ether(src='52:54:00:00:00:01', dst='52:54:00:00:00:02')/IP(src='10.0.0.1',
//   dst='10.0.0.2', flags='DF', id=0x1234)/TCP(sport=1234, dport=80, seq=1, flags='A')/
//   Raw(b'y'*1446)                                  (1500 bytes: headers + 1446 'y')
inline Bytes icmp_orig() {
    return cat(hex("5254000000025254000000010800450005ce1234400040060ef40a0000010a00"
                   "000204d200500000000100000000501020005ef70000"),
               fill(1446, 'y'));
}
// Ether(src='52:54:00:00:00:02', dst='52:54:00:00:00:01')/IP(src='10.0.0.2',
//   dst='10.0.0.1', tos=0xc0, ttl=64, id=0, flags=0)/ICMP(type=3, code=4,
//   nexthopmtu=1450)/bytes(orig[IP])[:28]
inline Bytes icmp_answer() {
    return hex("525400000001525400000002080045c0003800000000400166030a0000020a00"
               "00010304f22e000005aa450005ce1234400040060ef40a0000010a00000204d2"
               "005000000001");
}

// VLAN-tagged, with IP options:
// vorig = Ether(src='52:54:00:00:00:01', dst='52:54:00:00:00:02')/Dot1Q(vlan=100, prio=5)/
//   IP(src='10.0.0.1', dst='10.0.0.2', flags='DF', options=IPOption(b'\x01\x01\x01\x00'))/
//   UDP(sport=5353, dport=9)/Raw(b'z'*1460)         (1510 bytes: headers + 1460 'z')
inline Bytes icmp_vlan_orig() {
    return cat(hex("5254000000025254000000018100a0640800460005d40001400040111e150a00"
                   "00010a0000020101010014e9000905bc8a40"),
               fill(1460, 'z'));
}
// Ether(src='52:54:00:00:00:02', dst='52:54:00:00:00:01')/Dot1Q(vlan=100, prio=5)/
//   IP(src='10.0.0.2', dst='10.0.0.1', tos=0xc0, ttl=64, id=0, flags=0)/ICMP(type=3,
//   code=4, nexthopmtu=1458)/bytes(vorig[IP])[:32]
inline Bytes icmp_vlan_answer() {
    return hex("5254000000015254000000028100a064080045c0003c00000000400165ff0a00"
               "00020a0000010304525b000005b2460005d40001400040111e150a0000010a00"
               "00020101010014e9000905bc8a40");
}

// A 3-byte payload (fewer than the 8 quoted bytes) in a frame padded to 60:
// sorig = Ether(src='52:54:00:00:00:01', dst='52:54:00:00:00:02')/IP(src='10.0.0.1',
//   dst='10.0.0.2', proto=253)/Raw(b'abc')/Padding(b'\0'*23)
inline Bytes icmp_short_orig() {
    return hex("5254000000025254000000010800450000170001000040fd65e70a0000010a00"
               "00026162630000000000000000000000000000000000000000000000");
}
// Ether(src='52:54:00:00:00:02', dst='52:54:00:00:00:01')/IP(src='10.0.0.2',
//   dst='10.0.0.1', tos=0xc0, ttl=64, id=0, flags=0)/ICMP(type=3, code=4,
//   nexthopmtu=1000)/bytes(sorig[IP])[:23]
inline Bytes icmp_short_answer() {
    return hex("525400000001525400000002080045c0003300000000400166080a0000020a00"
               "0001030434b1000003e8450000170001000040fd65e70a0000010a0000026162"
               "63");
}

// ---------------------------------------------------------------- ARP

inline constexpr uint8_t kResponderMac[6] = {0x02, 0, 0, 0, 0, 0xaa};

// Ether(src='52:54:00:00:00:01', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1,
//   hwsrc='52:54:00:00:00:01', psrc='10.0.0.1', hwdst='00:00:00:00:00:00',
//   pdst='10.0.0.254')/Padding(b'\0'*18)
inline Bytes arp_request() {
    return hex("ffffffffffff525400000001080600010800060400015254000000010a000001"
               "0000000000000a0000fe000000000000000000000000000000000000");
}
// Ether(src='02:00:00:00:00:aa', dst='52:54:00:00:00:01')/ARP(op=2,
//   hwsrc='02:00:00:00:00:aa', psrc='10.0.0.254', hwdst='52:54:00:00:00:01',
//   pdst='10.0.0.1')/Padding(b'\0'*18)
inline Bytes arp_reply() {
    return hex("5254000000010200000000aa080600010800060400020200000000aa0a0000fe"
               "5254000000010a000001000000000000000000000000000000000000");
}
// The same with Dot1Q(vlan=7) after the Ethernet header and Padding(b'\0'*14).
inline Bytes arp_vlan_request() {
    return hex("ffffffffffff5254000000018100000708060001080006040001525400000001"
               "0a0000010000000000000a0000fe0000000000000000000000000000");
}
inline Bytes arp_vlan_reply() {
    return hex("5254000000010200000000aa81000007080600010800060400020200000000aa"
               "0a0000fe5254000000010a0000010000000000000000000000000000");
}
// arp_build_request(02:00:00:00:00:01, 192.168.1.1, 192.168.1.254):
// Ether(src='02:00:00:00:00:01', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1,
//   hwsrc='02:00:00:00:00:01', psrc='192.168.1.1', hwdst='00:00:00:00:00:00',
//   pdst='192.168.1.254')/Padding(b'\0'*18)
inline Bytes arp_built_request() {
    return hex("ffffffffffff02000000000108060001080006040001020000000001c0a80101"
               "000000000000c0a801fe000000000000000000000000000000000000");
}

}  // namespace encap_test::vec
