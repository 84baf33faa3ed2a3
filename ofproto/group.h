// Groups and meters: their specs, and their ovs-ofctl text (add-group / add-meter).
//
//   group_id=1,type=all,bucket=output:vm1,bucket=mod_dl_dst:52:54:00:00:00:09,output:vm2
//   group_id=2,type=select,bucket=weight:50,actions=output:vm1,bucket=output:vm2
//   meter=1,kbps,band=type=drop,rate=1000
//   meter=2,pktps,burst,band=type=drop,rate=100,burst_size=20
//
// Group types: all (every bucket, each on its own copy of the packet), select (one
// bucket, chosen by a hash of the packet's addresses and ports, weighted), indirect (the
// one bucket). A bucket is an action list (no goto_table, write_metadata or meter),
// optionally preceded by weight:N (select; default 100) and then actions=.
// Meters have one band, of type drop: packets above rate (kbps or pktps) are dropped;
// burst_size (kbits or packets) defaults to the rate (one second's worth).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ofproto/actions.h"
#include "ofproto/ofproto.h"

namespace vswitch::ofp {

enum class GroupType : uint8_t { All, Select, Indirect };

struct Bucket {
    uint16_t weight = 100;
    OfActionList actions;
    bool operator==(const Bucket&) const = default;
};

struct GroupSpec {
    uint32_t id = 0;
    GroupType type = GroupType::All;
    std::vector<Bucket> buckets;
    bool operator==(const GroupSpec&) const = default;
};

inline constexpr uint32_t kMaxGroupId = 0xfffffeff;
inline constexpr uint32_t kMaxMeterId = 0xffff0000;

FlowError parse_group(std::string_view text, const PortDirectory& ports, GroupSpec& out);
std::string format_group(const GroupSpec& g, const PortDirectory& ports);
// del-group / dump-groups selector: "group_id=N" or "" (all).
FlowError parse_group_id(std::string_view text, std::optional<uint32_t>& out);

struct MeterSpec {
    uint32_t id = 0;
    bool pktps = false;       // else kbps
    bool burst = false;       // burst_size given
    uint32_t rate = 0;        // kbps or packets/s
    uint32_t burst_size = 0;  // kbits or packets (0 = rate)
    bool operator==(const MeterSpec&) const = default;
};

FlowError parse_meter(std::string_view text, MeterSpec& out);
std::string format_meter(const MeterSpec& m);
// del-meter / dump-meters selector: "meter=N" or "" (all).
FlowError parse_meter_id(std::string_view text, std::optional<uint32_t>& out);

// The select-group hash of a key (the fields are un-wildcarded by translation).
uint32_t select_hash(const FlowKey& key);

}  // namespace vswitch::ofp
