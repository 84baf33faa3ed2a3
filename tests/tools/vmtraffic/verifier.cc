// verifier.cc - frame classification and sequence tracking (see verifier.h).
#include "verifier.h"

#include <cstring>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "test_frame.h"

namespace vmt {
namespace {

inline uint16_t be16_at(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

constexpr size_t kMaxStreams = 65536;  // beyond that frames are classified but not tracked

}  // namespace

void Verifier::process(const rte_mbuf* m) {
  if (m->nb_segs == 1) {
    classify(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    return;
  }
  if (scratch_.size() < m->pkt_len) scratch_.resize(m->pkt_len);
  const void* p = rte_pktmbuf_read(m, 0, m->pkt_len, scratch_.data());
  classify(static_cast<const uint8_t*>(p), m->pkt_len);
}

StreamStats* Verifier::lookup(uint16_t stream, uint16_t txq) {
  uint32_t key = uint32_t(stream) << 16 | txq;
  if (key == last_key_) return last_;
  auto it = index_.find(key);
  StreamStats* st;
  if (it != index_.end()) {
    st = it->second;
  } else {
    if (streams_.size() >= kMaxStreams) return nullptr;
    streams_.emplace_back();
    st = &streams_.back();
    st->stream = stream;
    st->txq = txq;
    index_.emplace(key, st);
  }
  last_key_ = key;
  last_ = st;
  return st;
}

void Verifier::track(StreamStats* st, uint32_t seq32) {
  constexpr uint64_t W = StreamStats::kWindow;
  auto bit = [&](uint64_t s) -> uint64_t& { return st->seen[(s % W) / 64]; };
  auto mask = [](uint64_t s) { return uint64_t(1) << (s % 64); };
  uint64_t s;
  if (!st->started) {
    st->started = true;
    s = seq32;
    st->first_seq = s;
    st->next_seq = s;
    st->c.lost += s;
    tot_.lost += s;
  } else {
    int64_t diff = int32_t(seq32 - uint32_t(st->next_seq));
    if (diff < 0 && uint64_t(-diff) > st->next_seq) {  // before seq 0: hopelessly late
      st->c.reordered++;
      tot_.reordered++;
      return;
    }
    s = st->next_seq + diff;
  }
  if (s >= st->next_seq) {
    uint64_t gap = s - st->next_seq;
    if (gap) {
      st->c.lost += gap;
      tot_.lost += gap;
      if (gap >= W) {
        std::memset(st->seen, 0, sizeof st->seen);
      } else {
        for (uint64_t x = st->next_seq; x < s; x++) bit(x) &= ~mask(x);
      }
    }
    bit(s) |= mask(s);
    st->next_seq = s + 1;
    return;
  }
  uint64_t age = st->next_seq - s;
  if (age <= W && (bit(s) & mask(s))) {
    st->c.dup++;
    tot_.dup++;
    return;
  }
  if (age <= W) bit(s) |= mask(s);
  st->c.reordered++;
  tot_.reordered++;
  if (st->c.lost) {
    st->c.lost--;
    tot_.lost--;
  }
}

void Verifier::classify(const uint8_t* d, uint32_t len) {
  uint32_t off = sizeof(rte_ether_hdr);
  if (len < off) {
    foreign_++;
    return;
  }
  uint16_t et = be16_at(d + 12);
  for (int tags = 0; (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) && tags < 2; tags++) {
    if (len < off + 4) {
      foreign_++;
      return;
    }
    et = be16_at(d + off + 2);
    off += 4;
  }
  if (et != RTE_ETHER_TYPE_IPV4 || len < off + sizeof(rte_ipv4_hdr)) {
    foreign_++;
    return;
  }
  const uint8_t* ip = d + off;
  unsigned ihl = (ip[0] & 0xf) * 4u;
  uint8_t proto = ip[9];
  uint16_t frag = be16_at(ip + 6);
  if ((ip[0] >> 4) != 4 || ihl < 20 || len < off + ihl ||
      (proto != IPPROTO_UDP && proto != IPPROTO_TCP) ||
      (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
    foreign_++;
    return;
  }
  uint32_t l4 = off + ihl;
  uint32_t l4len = 8;
  if (proto == IPPROTO_TCP) {
    if (len < l4 + 20) {
      foreign_++;
      return;
    }
    l4len = (d[l4 + 12] >> 4) * 4u;
  }
  uint32_t pay = l4 + l4len;
  uint32_t magic;
  if (l4len < 8 || len < pay + 4 || (std::memcpy(&magic, d + pay, 4), magic != rte_cpu_to_be_32(kMagic))) {
    foreign_++;
    return;
  }
  // A test frame from here on.
  tot_.test_frames++;
  if (len < pay + sizeof(TestHdr)) {
    tot_.bad_length++;  // cannot even read stream/seq
    return;
  }
  TestHdr h;
  std::memcpy(&h, d + pay, sizeof h);
  StreamStats* st = lookup(rte_be_to_cpu_16(h.stream), rte_be_to_cpu_16(h.txq));
  if (st) {
    st->c.test_frames++;
    track(st, rte_be_to_cpu_32(h.seq));
  }
  auto bump = [&](uint64_t VerifyCounters::*field) {
    tot_.*field += 1;
    if (st) st->c.*field += 1;
  };
  uint32_t ip_total = be16_at(ip + 2);
  uint32_t plen = rte_be_to_cpu_16(h.payload_len);
  if (ip_total < ihl + l4len || off + ip_total > len || ip_total - ihl - l4len != plen ||
      plen < sizeof(TestHdr)) {
    bump(&VerifyCounters::bad_length);
    return;
  }
  if (rte_raw_cksum(ip, ihl) != 0xffff) {
    bump(&VerifyCounters::bad_ip_csum);
    return;
  }
  uint32_t crc;
  bool pattern_ok =
      pattern_check(d + pay + sizeof(TestHdr), plen - sizeof(TestHdr),
                    pattern_seed(rte_be_to_cpu_16(h.stream), rte_be_to_cpu_16(h.txq), rte_be_to_cpu_32(h.seq)),
                    hdr_crc(&h), &crc);
  if (!pattern_ok || crc != rte_be_to_cpu_32(h.csum)) {
    bump(&VerifyCounters::bad_payload);
    return;
  }
  bump(&VerifyCounters::valid);
}

}  // namespace vmt
