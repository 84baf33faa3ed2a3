// Frame codec of the control API: every message on the stream is a 4-byte big-endian
// payload length followed by that many payload bytes (a serialized Request or Response).
//
// Contract:
//  - A payload may be 0..max_frame bytes (default kMaxFrameSize = 16 MiB). A larger
//    length is a protocol error: the decoder stops (kOversize, sticky) and the owner of
//    the connection reports error() and closes it. The check is made as soon as the
//    4-byte header arrives, so a hostile peer cannot make us buffer 4 GiB first.
//  - FrameDecoder is incremental and transport-agnostic: feed() whatever bytes the
//    socket produced (any fragmentation, several frames at once), then call next()
//    until it returns kNeedMore. Used by the blocking client and the async server alike.
//  - Not thread-safe; one decoder per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace google::protobuf {
class MessageLite;
}

namespace vswitch::api {

inline constexpr std::size_t kFrameHeaderSize = 4;
inline constexpr std::size_t kMaxFrameSize = 16u * 1024 * 1024;

// Appends header + payload to `out`. Returns false (out untouched) if the payload is
// larger than max_frame.
bool append_frame(std::string& out, std::string_view payload,
                  std::size_t max_frame = kMaxFrameSize);

// Serializes `msg` straight into a new frame appended to `out` (no intermediate copy).
// On failure returns false, leaves `out` untouched and sets `err`.
bool append_message_frame(std::string& out, const google::protobuf::MessageLite& msg,
                          std::string& err, std::size_t max_frame = kMaxFrameSize);

// "frame of N bytes exceeds the 16 MiB limit": the one wording for oversize everywhere.
std::string oversize_message(std::uint64_t length, std::size_t max_frame = kMaxFrameSize);

class FrameDecoder {
public:
    enum class Status {
        kNeedMore,   // no complete frame buffered; feed() more bytes
        kFrame,      // `payload` holds the next frame
        kOversize,   // a header announced a frame > max_frame; see error(). Sticky.
    };

    explicit FrameDecoder(std::size_t max_frame = kMaxFrameSize) : max_frame_(max_frame) {}

    // Appends received bytes. Invalidates any payload view returned by next().
    // Ignored once the decoder has failed.
    void feed(const void* data, std::size_t n);

    // Extracts the next complete frame. The view stays valid until the next call to
    // feed(), next() or reset().
    Status next(std::string_view& payload);

    bool failed() const { return failed_; }
    const std::string& error() const { return error_; }

    // Bytes received but not yet returned as frames (a partial frame, usually).
    std::size_t buffered() const { return buf_.size() - pos_; }

    void reset();

private:
    std::size_t max_frame_;
    std::string buf_;
    std::size_t pos_ = 0;   // start of the first unconsumed byte in buf_
    bool failed_ = false;
    std::string error_;
};

}  // namespace vswitch::api
