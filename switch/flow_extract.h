// Flow key extraction: parses L2..L4 of one packet into a FlowKey.
//
// Contract:
//  - Reads only; never writes the mbuf.
//  - Headers may span segments: the fast path reads the first segment directly and falls
//    back to rte_pktmbuf_read() only when the headers are not all in it.
//  - Classification of bad frames (the caller drops and counts them by reason):
//      Runt       shorter than an Ethernet header (14 B), or a VLAN tag cut short
//      Malformed  IPv4 with version != 4, IHL < 5, total length < IHL*4 or beyond the
//                 frame; IPv6 header cut short; TCP/UDP/ICMP header cut short on a
//                 first fragment
//    Oversize is the caller's check (it depends on the port's MTU).
//  - Unknown EtherTypes are not errors: L2 fields only, rest zero.
#pragma once

#include <cstdint>

#include "flow_key.h"

struct rte_mbuf;

namespace vswitch {

enum class ParseResult : uint8_t { Ok = 0, Runt, Malformed };

ParseResult flow_extract(const rte_mbuf* m, uint32_t in_port, FlowKey& key);

}  // namespace vswitch
