// Frame codec: see framing.h for the wire format and the decoder contract.
#include "ctl/api/framing.h"

#include <google/protobuf/message_lite.h>

#include <climits>
#include <cstring>

namespace vswitch::api {

namespace {

void put_be32(char* p, std::uint32_t v) {
    p[0] = static_cast<char>(v >> 24);
    p[1] = static_cast<char>(v >> 16);
    p[2] = static_cast<char>(v >> 8);
    p[3] = static_cast<char>(v);
}

std::uint32_t get_be32(const char* p) {
    auto b = reinterpret_cast<const unsigned char*>(p);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
           (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
}

std::string human_size(std::uint64_t n) {
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0) return std::to_string(n >> 20) + " MiB";
    if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
    return std::to_string(n) + " bytes";
}

}  // namespace

std::string oversize_message(std::uint64_t length, std::size_t max_frame) {
    return "frame of " + std::to_string(length) + " bytes exceeds the " +
           human_size(max_frame) + " limit";
}

bool append_frame(std::string& out, std::string_view payload, std::size_t max_frame) {
    if (payload.size() > max_frame || payload.size() > UINT32_MAX) return false;
    char hdr[kFrameHeaderSize];
    put_be32(hdr, static_cast<std::uint32_t>(payload.size()));
    out.reserve(out.size() + kFrameHeaderSize + payload.size());
    out.append(hdr, kFrameHeaderSize);
    out.append(payload);
    return true;
}

bool append_message_frame(std::string& out, const google::protobuf::MessageLite& msg,
                          std::string& err, std::size_t max_frame) {
    std::size_t len = msg.ByteSizeLong();
    if (len > max_frame || len > UINT32_MAX) {
        err = "message too large: " + oversize_message(len, max_frame);
        return false;
    }
    std::size_t base = out.size();
    out.resize(base + kFrameHeaderSize + len);
    put_be32(out.data() + base, static_cast<std::uint32_t>(len));
    if (!msg.SerializeToArray(out.data() + base + kFrameHeaderSize, static_cast<int>(len))) {
        out.resize(base);
        err = "cannot serialize " + msg.GetTypeName();
        return false;
    }
    return true;
}

void FrameDecoder::feed(const void* data, std::size_t n) {
    if (failed_ || n == 0) return;
    // Drop consumed bytes before appending. What remains is at most one partial frame,
    // and once it is at the front it is never moved again, so a 16 MiB frame arriving in
    // 64 KiB reads costs one append per read, not a quadratic series of moves.
    if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > 0) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    buf_.append(static_cast<const char*>(data), n);
}

FrameDecoder::Status FrameDecoder::next(std::string_view& payload) {
    if (failed_) return Status::kOversize;
    std::size_t avail = buf_.size() - pos_;
    if (avail < kFrameHeaderSize) return Status::kNeedMore;
    std::uint32_t len = get_be32(buf_.data() + pos_);
    if (len > max_frame_) {
        failed_ = true;
        error_ = oversize_message(len, max_frame_);
        buf_.clear();
        buf_.shrink_to_fit();
        pos_ = 0;
        return Status::kOversize;
    }
    if (avail - kFrameHeaderSize < len) {
        // Grow once to the full frame instead of doubling through every read.
        buf_.reserve(pos_ + kFrameHeaderSize + len);
        return Status::kNeedMore;
    }
    payload = std::string_view(buf_.data() + pos_ + kFrameHeaderSize, len);
    pos_ += kFrameHeaderSize + len;
    return Status::kFrame;
}

void FrameDecoder::reset() {
    buf_.clear();
    pos_ = 0;
    failed_ = false;
    error_.clear();
}

}  // namespace vswitch::api
