// responder.cc - ARP and ICMP echo replies for --answer (see responder.h).
#include "responder.h"

#include <cstring>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>

namespace vmt {
namespace {

Answer arp(rte_mbuf* m, uint32_t ip, const rte_ether_addr& mac) {
  if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)) return Answer::None;
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* a = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  if (a->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) || a->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
      a->arp_hlen != 6 || a->arp_plen != 4 || a->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) ||
      a->arp_data.arp_tip != rte_cpu_to_be_32(ip))
    return Answer::None;
  a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
  a->arp_data.arp_tha = a->arp_data.arp_sha;
  a->arp_data.arp_tip = a->arp_data.arp_sip;
  a->arp_data.arp_sha = mac;
  a->arp_data.arp_sip = rte_cpu_to_be_32(ip);
  eth->dst_addr = eth->src_addr;
  eth->src_addr = mac;
  return Answer::Arp;
}

Answer icmp_echo(rte_mbuf* m, uint32_t ip, const rte_ether_addr& mac) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const uint32_t room = m->data_len - sizeof(rte_ether_hdr);
  if (room < sizeof(rte_ipv4_hdr)) return Answer::None;
  auto* iph = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  const uint32_t ihl = rte_ipv4_hdr_len(iph);
  const uint32_t total = rte_be_to_cpu_16(iph->total_length);
  if ((iph->version_ihl >> 4) != 4 || ihl < 20 || total < ihl + sizeof(rte_icmp_hdr) || total > room ||
      iph->next_proto_id != IPPROTO_ICMP || iph->dst_addr != rte_cpu_to_be_32(ip) ||
      (rte_be_to_cpu_16(iph->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
    return Answer::None;
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(reinterpret_cast<uint8_t*>(iph) + ihl);
  if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) return Answer::None;
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  icmp->icmp_cksum = 0;
  icmp->icmp_cksum = uint16_t(~rte_raw_cksum(icmp, total - ihl));
  iph->dst_addr = iph->src_addr;
  iph->src_addr = rte_cpu_to_be_32(ip);
  iph->time_to_live = 64;
  iph->hdr_checksum = 0;
  iph->hdr_checksum = rte_ipv4_cksum(iph);
  eth->dst_addr = eth->src_addr;
  eth->src_addr = mac;
  return Answer::IcmpEcho;
}

}  // namespace

Answer answer_in_place(rte_mbuf* m, uint32_t ip, const rte_ether_addr& mac) {
  if (m->data_len < sizeof(rte_ether_hdr)) return Answer::None;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) return arp(m, ip, mac);
  if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) return icmp_echo(m, ip, mac);
  return Answer::None;
}

}  // namespace vmt
