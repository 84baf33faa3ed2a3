// pcap_file.h - minimal classic-pcap (libpcap 2.4) reader and writer; no libpcap.
//
// Contract:
//   PcapWriter writes a microsecond-resolution, host-endian, LINKTYPE_ETHERNET
//   file, snaplen 65535: one record per write() holding the whole frame (all
//   mbuf segments).  Output is buffered; flush() pushes it to the kernel;
//   close() (also the destructor) flushes and closes.  Errors are sticky and
//   reported by ok()/error().
//   load_pcap() reads a whole capture file into memory: classic pcap (either
//   byte order, micro- or nanosecond magic) or pcapng (SHB/IDB/EPB/SPB blocks,
//   any byte order, other blocks skipped); frames must be LINKTYPE_ETHERNET.
//   Truncated or corrupt records are an error.  Timestamps are ignored.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <rte_mbuf.h>

namespace vmt {

class PcapWriter {
 public:
  PcapWriter() = default;
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  ~PcapWriter() { close(); }

  bool open(const std::string& path);
  void write(const rte_mbuf* m, uint64_t ts_ns);  // ts: ns since the Unix epoch
  void flush();
  void close();
  bool ok() const { return err_.empty(); }
  const std::string& error() const { return err_; }
  uint64_t frames() const { return frames_; }

 private:
  FILE* f_ = nullptr;
  std::string path_, err_;
  uint64_t frames_ = 0;
};

struct PcapFrames {
  std::vector<uint8_t> data;      // all frames back to back
  std::vector<uint32_t> offset;   // start of frame i in data
  std::vector<uint32_t> length;   // captured length of frame i
  uint32_t max_len = 0;
  size_t size() const { return offset.size(); }
};

// Returns false and sets *err on failure.
bool load_pcap(const std::string& path, PcapFrames* out, std::string* err);

}  // namespace vmt
