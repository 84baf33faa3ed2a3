// verifier.h - receive-side classification and per-stream sequence tracking.
//
// Contract:
//   Verifier::process() classifies one received frame (any segmentation) as
//     foreign      - not Eth[/VLAN{1,2}]/IPv4(unfragmented)/UDP|TCP with a TestHdr magic
//     bad_length   - test frame whose IP/L4/TestHdr lengths disagree or is truncated
//     bad_ip_csum  - test frame with a wrong IPv4 header checksum
//     bad_payload  - test frame whose CRC or byte pattern does not match
//     valid        - everything checks out (dups are valid frames too)
//   (first matching class wins, in that order).  Every frame that carries the
//   magic ("test frame") is also fed to the sequence tracker of its
//   (stream, txq), which counts received, lost (gaps not filled so far),
//   reordered (arrived after a later seq; each one fills a gap) and dup (seen
//   twice inside a 1024-seq window).  A frame older than the window counts as
//   reordered.  The first frame seen of a stream counts seqs below it as lost.
//   Totals are maintained incrementally (O(1) to read).  Not thread safe.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include <rte_mbuf.h>

namespace vmt {

struct VerifyCounters {
  uint64_t test_frames = 0, valid = 0, bad_payload = 0, bad_length = 0, bad_ip_csum = 0;
  uint64_t lost = 0, reordered = 0, dup = 0;
};

struct StreamStats {
  static constexpr unsigned kWindow = 1024;
  uint16_t stream = 0, txq = 0;
  VerifyCounters c;   // test_frames == frames received on this (stream, txq)
  uint64_t first_seq = 0, next_seq = 0;  // next_seq = highest seen + 1 (64-bit extended)
  bool started = false;
  uint64_t seen[kWindow / 64] = {};
};

class Verifier {
 public:
  void process(const rte_mbuf* m);
  const VerifyCounters& totals() const { return tot_; }
  uint64_t foreign() const { return foreign_; }
  // Streams in first-seen order.
  const std::deque<StreamStats>& streams() const { return streams_; }

 private:
  void classify(const uint8_t* d, uint32_t len);
  StreamStats* lookup(uint16_t stream, uint16_t txq);
  void track(StreamStats* st, uint32_t seq32);

  VerifyCounters tot_;
  uint64_t foreign_ = 0;
  std::deque<StreamStats> streams_;
  std::unordered_map<uint32_t, StreamStats*> index_;
  uint32_t last_key_ = UINT32_MAX;
  StreamStats* last_ = nullptr;
  std::vector<uint8_t> scratch_;  // linearisation of multi-segment frames
};

}  // namespace vmt
