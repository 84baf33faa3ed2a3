// packet_gen.cc - test frame template and per-packet patching (see packet_gen.h).
#include "packet_gen.h"

#include <cstring>

#include <rte_ip.h>
#include <rte_memcpy.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "test_frame.h"

namespace vmt {

PacketGen::PacketGen(const SendSpec& s)
    : size_(s.size), stream_(s.stream), sport_(s.sport), tcp_(s.proto == Proto::TCP) {
  std::memset(tmpl_, 0, sizeof tmpl_);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(tmpl_);
  eth->dst_addr = s.dst;
  eth->src_addr = s.src;
  l3_off_ = sizeof(rte_ether_hdr);
  if (s.vlan >= 0) {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    auto* vh = reinterpret_cast<rte_vlan_hdr*>(tmpl_ + l3_off_);
    vh->vlan_tci = rte_cpu_to_be_16(uint16_t(s.vlan));
    vh->eth_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    l3_off_ += sizeof(rte_vlan_hdr);
  } else {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  }
  l4_off_ = l3_off_ + sizeof(rte_ipv4_hdr);
  pay_off_ = l4_off_ + (tcp_ ? sizeof(rte_tcp_hdr) : sizeof(rte_udp_hdr));
  hdr_len_ = pay_off_ + sizeof(TestHdr);
  pattern_len_ = size_ - hdr_len_;

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(tmpl_ + l3_off_);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(uint16_t(size_ - l3_off_));
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = 64;
  ip->next_proto_id = tcp_ ? IPPROTO_TCP : IPPROTO_UDP;
  ip->src_addr = rte_cpu_to_be_32(s.src_ip);
  ip->dst_addr = rte_cpu_to_be_32(s.dst_ip);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);

  if (tcp_) {
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(tmpl_ + l4_off_);
    tcp->src_port = rte_cpu_to_be_16(s.sport);
    tcp->dst_port = rte_cpu_to_be_16(s.dport);
    tcp->sent_seq = rte_cpu_to_be_32(1);
    tcp->recv_ack = rte_cpu_to_be_32(1);
    tcp->data_off = 5 << 4;
    tcp->tcp_flags = RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG;
    tcp->rx_win = rte_cpu_to_be_16(65535);
  } else {
    auto* udp = reinterpret_cast<rte_udp_hdr*>(tmpl_ + l4_off_);
    udp->src_port = rte_cpu_to_be_16(s.sport);
    udp->dst_port = rte_cpu_to_be_16(s.dport);
    udp->dgram_len = rte_cpu_to_be_16(uint16_t(size_ - l4_off_));
    udp->dgram_cksum = 0;
  }
  auto* th = reinterpret_cast<TestHdr*>(tmpl_ + pay_off_);
  th->magic = rte_cpu_to_be_32(kMagic);
  th->stream = rte_cpu_to_be_16(stream_);
  th->payload_len = rte_cpu_to_be_16(uint16_t(size_ - pay_off_));
}

void PacketGen::build(rte_mbuf* m, uint16_t txq, uint32_t seq, uint32_t flow, bool corrupt) const {
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  rte_memcpy(d, tmpl_, hdr_len_);
  if (flow) {
    rte_be16_t sp = rte_cpu_to_be_16(uint16_t(sport_ + flow));
    std::memcpy(d + l4_off_, &sp, 2);  // src port is the first field of UDP and TCP
  }
  auto* th = reinterpret_cast<TestHdr*>(d + pay_off_);
  th->txq = rte_cpu_to_be_16(txq);
  th->seq = rte_cpu_to_be_32(seq);
  uint32_t crc = hdr_crc(th);
  crc = pattern_fill(d + hdr_len_, pattern_len_, pattern_seed(stream_, txq, seq), crc);
  th->csum = rte_cpu_to_be_32(crc);
  if (corrupt) {
    if (pattern_len_)
      d[size_ - 1] ^= 0x5a;
    else
      th->csum ^= rte_cpu_to_be_32(1);
  }
  if (tcp_) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(d + l3_off_);
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(d + l4_off_);
    tcp->sent_seq = rte_cpu_to_be_32(1 + seq * (size_ - pay_off_));  // looks like a stream
    tcp->cksum = 0;
    tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
  }
  m->data_len = uint16_t(size_);
  m->pkt_len = size_;
}

}  // namespace vmt
