#include "ofproto/normal.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace vswitch::ofp {
namespace {

bool is_group(const uint8_t mac[6]) { return mac[0] & 0x01; }   // multicast or broadcast

// Keeps a MAC entry alive (or re-learns it) while a megaflow that NORMAL translated for
// this (VLAN, source, ingress port) carries packets. The revalidator credits it only when
// the megaflow had packets since its previous pass.
class MacRefresh final : public StatsSink {
public:
    MacRefresh(MacLearning& ml, uint16_t vlan, const uint8_t mac[6], uint32_t port)
        : ml_(ml), vlan_(vlan), port_(port) {
        std::memcpy(mac_, mac, sizeof mac_);
    }
    void credit(uint64_t packets, uint64_t, uint64_t) override {
        // A full learn, not just an age reset: if the MAC was aged, flushed or moved away
        // while this megaflow kept carrying its frames, those frames are the evidence that
        // it is (back) here, and nothing else would upcall to say so.
        if (packets) ml_.learn(vlan_, mac_, port_);
    }

private:
    MacLearning& ml_;
    uint16_t vlan_;
    uint8_t mac_[6];
    uint32_t port_;
};

void flood(std::span<const uint32_t> ports, uint32_t in_port, DpActionList& acts) {
    for (uint32_t p : ports)
        if (p != in_port) acts.push_back(DpAction::output(p));
}

}  // namespace

const char* to_string(NormalVerdict v) {
    switch (v) {
    case NormalVerdict::DropMulticastSrc: return "drop (multicast source)";
    case NormalVerdict::Flood: return "flood";
    case NormalVerdict::Unicast: return "unicast";
    case NormalVerdict::DropHairpin: return "drop (destination on ingress port)";
    }
    return "?";
}

uint16_t normal_vlan(const FlowKey& key) { return ntohs(key.vlan_tci) & 0x0fff; }

NormalVerdict xlate_normal(MacLearning& ml, std::span<const uint32_t> ports, const FlowKey& key,
                           Translation& out, bool may_learn) {
    FlowKey& mask = out.mask;
    if (is_group(key.dl_src)) {
        // Only the group bit decided this: one megaflow drops every such frame.
        mask.dl_src[0] |= 0x01;
        return NormalVerdict::DropMulticastSrc;
    }
    // Learning keys on these, and the no-hairpin rule reads in_port: a frame from a new
    // source, port or VLAN must miss this megaflow and upcall, so it gets learned.
    mask.in_port = ~uint32_t{0};
    std::memset(mask.dl_src, 0xff, sizeof mask.dl_src);
    // CFI too: it is what tells an untagged frame from one tagged with VID 0. Both are
    // VLAN 0 here and forwarded unchanged, but keeping them apart costs at most one more
    // megaflow and keeps the mask right when per-port VLAN modes (access/trunk), which
    // treat them differently, come. PCP stays wildcarded: nothing here reads it.
    mask.vlan_tci |= htons(0x1fff);

    const uint16_t vlan = normal_vlan(key);
    if (may_learn) ml.learn(vlan, key.dl_src, key.in_port);
    out.rules.push_back(std::make_shared<MacRefresh>(ml, vlan, key.dl_src, key.in_port));

    if (is_group(key.dl_dst)) {
        mask.dl_dst[0] |= 0x01;   // flooded whatever the group
        flood(ports, key.in_port, out.actions);
        return NormalVerdict::Flood;
    }
    std::memset(mask.dl_dst, 0xff, sizeof mask.dl_dst);
    std::optional<uint32_t> dst = ml.lookup(vlan, key.dl_dst);
    // An entry for a port outside `ports` (deleted, before flush_port ran) is as good as
    // unknown: flooding reaches the MAC wherever it went.
    if (dst && std::binary_search(ports.begin(), ports.end(), *dst)) {
        if (*dst == key.in_port) return NormalVerdict::DropHairpin;
        out.actions.push_back(DpAction::output(*dst));
        return NormalVerdict::Unicast;
    }
    flood(ports, key.in_port, out.actions);
    return NormalVerdict::Flood;
}

}  // namespace vswitch::ofp
