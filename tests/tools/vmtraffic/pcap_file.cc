// pcap_file.cc - classic pcap read/write (see pcap_file.h).
#include "pcap_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vmt {
namespace {

struct PcapGlobalHdr {
  uint32_t magic;
  uint16_t major, minor;
  int32_t thiszone;
  uint32_t sigfigs, snaplen, linktype;
};
struct PcapRecHdr {
  uint32_t ts_sec, ts_frac, incl_len, orig_len;
};
static_assert(sizeof(PcapGlobalHdr) == 24 && sizeof(PcapRecHdr) == 16);

constexpr uint32_t kMagicUs = 0xa1b2c3d4, kMagicNs = 0xa1b23c4d;
constexpr uint32_t kSnaplen = 65535, kLinktypeEthernet = 1;

constexpr uint32_t kPcapngShb = 0x0a0d0d0a, kPcapngIdb = 1, kPcapngSpb = 3, kPcapngEpb = 6;

void add_frame(PcapFrames* out, const uint8_t* p, uint32_t len) {
  out->offset.push_back(uint32_t(out->data.size()));
  out->length.push_back(len);
  out->data.insert(out->data.end(), p, p + len);
  if (len > out->max_len) out->max_len = len;
}

// pcapng subset: SHB, IDB, EPB, SPB; other blocks are skipped.  Every
// interface that carries packets must be LINKTYPE_ETHERNET.
bool load_pcapng(const std::string& path, const std::vector<uint8_t>& buf, PcapFrames* out,
                 std::string* err) {
  bool swap = false;
  std::vector<uint16_t> linktypes;  // per interface of the current section
  size_t pos = 0;
  auto rd32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, buf.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  while (pos < buf.size()) {
    if (buf.size() - pos < 12) {
      *err = path + ": truncated pcapng block";
      return false;
    }
    uint32_t type;
    std::memcpy(&type, buf.data() + pos, 4);  // the SHB type is a palindrome
    if (type == kPcapngShb) {
      uint32_t bom;
      std::memcpy(&bom, buf.data() + pos + 8, 4);
      if (bom == 0x1a2b3c4d) swap = false;
      else if (bom == 0x4d3c2b1a) swap = true;
      else {
        *err = path + ": bad pcapng byte-order magic";
        return false;
      }
      linktypes.clear();
    } else {
      type = rd32(pos);
    }
    uint32_t blen = rd32(pos + 4);
    if (blen < 12 || blen % 4 || blen > buf.size() - pos) {
      *err = path + ": corrupt pcapng block at offset " + std::to_string(pos);
      return false;
    }
    const size_t body = pos + 8, body_len = blen - 12;
    if (type == kPcapngIdb && body_len >= 8) {
      uint16_t lt;
      std::memcpy(&lt, buf.data() + body, 2);
      linktypes.push_back(swap ? __builtin_bswap16(lt) : lt);
    } else if (type == kPcapngEpb && body_len >= 20) {
      uint32_t ifc = rd32(body), cap = rd32(body + 12);
      if (ifc >= linktypes.size() || linktypes[ifc] != kLinktypeEthernet) {
        *err = path + ": packet on a non-Ethernet or undeclared interface";
        return false;
      }
      if (cap > body_len - 20) {
        *err = path + ": corrupt enhanced packet block";
        return false;
      }
      add_frame(out, buf.data() + body + 20, cap);
    } else if (type == kPcapngSpb && body_len >= 4) {
      if (linktypes.empty() || linktypes[0] != kLinktypeEthernet) {
        *err = path + ": simple packet block on a non-Ethernet interface";
        return false;
      }
      uint32_t orig = rd32(body), cap = std::min<uint32_t>(orig, uint32_t(body_len - 4));
      add_frame(out, buf.data() + body + 4, cap);
    }
    pos += blen;
  }
  return true;
}

}  // namespace

bool PcapWriter::open(const std::string& path) {
  path_ = path;
  f_ = fopen(path.c_str(), "wb");
  if (!f_) {
    err_ = path + ": " + strerror(errno);
    return false;
  }
  setvbuf(f_, nullptr, _IOFBF, 1 << 20);
  PcapGlobalHdr g{kMagicUs, 2, 4, 0, 0, kSnaplen, kLinktypeEthernet};
  if (fwrite(&g, sizeof g, 1, f_) != 1) err_ = path + ": write failed";
  return ok();
}

void PcapWriter::write(const rte_mbuf* m, uint64_t ts_ns) {
  if (!f_ || !ok()) return;
  uint32_t len = m->pkt_len, incl = len < kSnaplen ? len : kSnaplen;
  PcapRecHdr r{uint32_t(ts_ns / 1000000000ull), uint32_t(ts_ns % 1000000000ull / 1000), incl, len};
  bool good = fwrite(&r, sizeof r, 1, f_) == 1;
  uint32_t left = incl;
  for (const rte_mbuf* s = m; s && left && good; s = s->next) {
    uint32_t n = s->data_len < left ? s->data_len : left;
    good = fwrite(rte_pktmbuf_mtod(s, const void*), 1, n, f_) == n;
    left -= n;
  }
  if (!good) err_ = path_ + ": write failed: " + strerror(errno);
  frames_++;
}

void PcapWriter::flush() {
  if (f_ && fflush(f_) != 0 && ok()) err_ = path_ + ": flush failed: " + strerror(errno);
}

void PcapWriter::close() {
  if (!f_) return;
  if (fclose(f_) != 0 && ok()) err_ = path_ + ": close failed: " + strerror(errno);
  f_ = nullptr;
}

bool load_pcap(const std::string& path, PcapFrames* out, std::string* err) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) {
    *err = path + ": " + strerror(errno);
    return false;
  }
  std::vector<uint8_t> buf;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf.insert(buf.end(), chunk, chunk + n);
  bool rd_err = ferror(f);
  fclose(f);
  if (rd_err) {
    *err = path + ": read error";
    return false;
  }
  if (buf.size() < sizeof(PcapGlobalHdr)) {
    *err = path + ": too short for a pcap file";
    return false;
  }
  PcapGlobalHdr g;
  std::memcpy(&g, buf.data(), sizeof g);
  bool swap;
  if (g.magic == kMagicUs || g.magic == kMagicNs) {
    swap = false;
  } else if (__builtin_bswap32(g.magic) == kMagicUs || __builtin_bswap32(g.magic) == kMagicNs) {
    swap = true;
  } else if (g.magic == kPcapngShb) {
    return load_pcapng(path, buf, out, err);
  } else {
    *err = path + ": not a pcap file";
    return false;
  }
  auto fix = [swap](uint32_t v) { return swap ? __builtin_bswap32(v) : v; };
  if (fix(g.linktype) != kLinktypeEthernet) {
    *err = path + ": link type " + std::to_string(fix(g.linktype)) + " is not Ethernet (1)";
    return false;
  }
  size_t pos = sizeof g;
  while (pos < buf.size()) {
    if (buf.size() - pos < sizeof(PcapRecHdr)) {
      *err = path + ": truncated record header";
      return false;
    }
    PcapRecHdr r;
    std::memcpy(&r, buf.data() + pos, sizeof r);
    pos += sizeof r;
    uint32_t incl = fix(r.incl_len);
    if (incl > 262144 || buf.size() - pos < incl) {
      *err = path + ": truncated or corrupt record " + std::to_string(out->size());
      return false;
    }
    add_frame(out, buf.data() + pos, incl);
    pos += incl;
  }
  return true;
}

}  // namespace vmt
