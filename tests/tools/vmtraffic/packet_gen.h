// packet_gen.h - builds vmtraffic test frames from a precomputed template.
//
// Contract:
//   PacketGen is built once per --send from its SendSpec.  build() writes one
//   complete frame of frame_len() bytes into a fresh single-segment mbuf whose
//   data room holds at least frame_len() bytes: it copies the precomputed
//   L2/L3/L4/TestHdr template, patches the L4 source port (flow), txq and seq,
//   writes the (stream, txq, seq) pattern and the CRC (see test_frame.h), and
//   sets data_len/pkt_len.  The IPv4 header checksum is part of the template
//   (the IP header never changes); the UDP checksum is 0 (legal for IPv4); the
//   TCP checksum is computed per frame (TCP seq advances by
//   the payload length per (stream, txq) packet, no handshake).  corrupt=true flips one payload byte
//   after checksumming (debug aid for negative tests).  No allocation, no state
//   change: build() is const and cheap enough for the per-packet path.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "options.h"

namespace vmt {

class PacketGen {
 public:
  explicit PacketGen(const SendSpec& s);
  unsigned frame_len() const { return size_; }
  void build(rte_mbuf* m, uint16_t txq, uint32_t seq, uint32_t flow, bool corrupt) const;

 private:
  static constexpr unsigned kMaxHdr = 14 + 4 + 20 + 20 + 20;
  alignas(64) uint8_t tmpl_[kMaxHdr];
  unsigned size_ = 0, l3_off_ = 0, l4_off_ = 0, pay_off_ = 0, hdr_len_ = 0, pattern_len_ = 0;
  uint16_t stream_ = 0, sport_ = 0;
  bool tcp_ = false;
};

}  // namespace vmt
