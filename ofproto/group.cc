#include "ofproto/group.h"

#include <arpa/inet.h>

#include "ofproto/action_parser.h"
#include "ofproto/flow_format.h"
#include "ofproto/tokenizer.h"
#include "ofproto/value_syntax.h"

namespace vswitch::ofp {
namespace {

FlowError error(std::string message, std::string_view token) {
    return FlowError{std::move(message), std::string(token)};
}

// Text from the start of `from` to the end of `to` (views into one string).
std::string_view span(std::string_view from, std::string_view to) {
    return std::string_view(from.data(), static_cast<size_t>(to.data() + to.size() - from.data()));
}

std::string_view after(std::string_view whole, std::string_view part) {
    size_t off = static_cast<size_t>(part.data() + part.size() - whole.data());
    std::string_view rest = whole.substr(off);
    while (!rest.empty() && (rest[0] == ',' || rest[0] == ' ' || rest[0] == '\t')) rest.remove_prefix(1);
    return rest;
}

FlowError parse_bucket(std::string_view text, std::string_view token, GroupType type,
                       const PortDirectory& ports, Bucket& b) {
    std::string_view rest = text;
    bool weight_seen = false;
    for (;;) {
        std::vector<Element> elems = split_actions(rest);
        if (elems.empty()) break;
        const Element& e = elems[0];
        if (e.key == "weight" && (e.sep == ':' || e.sep == '=')) {
            uint64_t w = 0;
            if (std::string err = parse_uint(e.value, 0xffff, w); !err.empty())
                return error("bucket weight: " + err, e.text);
            if (type != GroupType::Select) return error("weight is only for select groups", e.text);
            if (weight_seen) return error("duplicate weight", e.text);
            weight_seen = true;
            b.weight = static_cast<uint16_t>(w);
            rest = after(rest, e.text);
            continue;
        }
        if (e.key == "actions" && e.sep == '=') {
            rest = rest.substr(static_cast<size_t>(e.value.data() - rest.data()));
        }
        break;
    }
    ActionContext ctx{std::nullopt, nullptr};
    if (FlowError err = parse_actions(rest, ports, b.actions, ctx)) {
        if (err.token.empty()) err.token = std::string(token);
        err.message = "bucket: " + err.message;
        return err;
    }
    return {};
}

FlowError parse_id(const Element& e, uint64_t max, uint32_t& out) {
    if (e.sep != '=' || e.value.empty()) return error(std::string(e.key) + ": missing value", e.text);
    uint64_t v = 0;
    if (std::string err = parse_uint(e.value, max, v); !err.empty())
        return error(std::string(e.key) + ": " + err, e.text);
    out = static_cast<uint32_t>(v);
    return {};
}

}  // namespace

FlowError parse_group(std::string_view text, const PortDirectory& ports, GroupSpec& out) {
    GroupSpec g;
    bool have_id = false, have_type = false;
    std::vector<Element> elems = split_actions(text);
    size_t i = 0;
    for (; i < elems.size(); i++) {
        const Element& e = elems[i];
        if (e.key == "bucket") break;
        if (e.key == "group_id") {
            if (have_id) return error("duplicate group_id", e.text);
            if (FlowError err = parse_id(e, kMaxGroupId, g.id)) return err;
            have_id = true;
        } else if (e.key == "type") {
            if (have_type) return error("duplicate type", e.text);
            if (e.sep != '=') return error("type: missing value", e.text);
            if (e.value == "all") g.type = GroupType::All;
            else if (e.value == "select") g.type = GroupType::Select;
            else if (e.value == "indirect") g.type = GroupType::Indirect;
            else return error("type: unsupported group type '" + std::string(e.value) + "' (all, select or indirect)", e.text);
            have_type = true;
        } else {
            return error("unknown group property '" + std::string(e.key) + "'", e.text);
        }
    }
    if (!have_id) return error("missing group_id", "");
    if (!have_type) return error("missing type (all, select or indirect)", "");
    while (i < elems.size()) {
        const Element& start = elems[i];
        if (start.sep != '=') return error("bucket: expected bucket=ACTIONS", start.text);
        size_t j = i + 1;
        while (j < elems.size() && elems[j].key != "bucket") j++;
        std::string_view body = start.value;
        if (j > i + 1) body = span(start.value, elems[j - 1].text);
        if (start.value.empty()) body = j > i + 1 ? span(elems[i + 1].text, elems[j - 1].text) : body;
        Bucket b;
        if (FlowError err = parse_bucket(body, start.text, g.type, ports, b)) return err;
        g.buckets.push_back(std::move(b));
        i = j;
    }
    if (g.type == GroupType::Indirect && g.buckets.size() != 1)
        return error("an indirect group has exactly one bucket", "");
    if (g.buckets.size() > 1024) return error("too many buckets (at most 1024)", "");
    out = std::move(g);
    return {};
}

std::string format_group(const GroupSpec& g, const PortDirectory& ports) {
    std::string s = "group_id=" + std::to_string(g.id) + ",type=";
    s += g.type == GroupType::All ? "all" : g.type == GroupType::Select ? "select" : "indirect";
    for (const Bucket& b : g.buckets) {
        s += ",bucket=";
        if (g.type == GroupType::Select) s += "weight:" + std::to_string(b.weight) + ",";
        s += "actions=" + format_actions(b.actions, ports);
    }
    return s;
}

FlowError parse_group_id(std::string_view text, std::optional<uint32_t>& out) {
    out.reset();
    std::vector<Element> elems = split_actions(text);
    for (const Element& e : elems) {
        if (e.key != "group_id") return error("expected group_id=N", e.text);
        if (out) return error("duplicate group_id", e.text);
        uint32_t id = 0;
        if (FlowError err = parse_id(e, kMaxGroupId, id)) return err;
        out = id;
    }
    return {};
}

FlowError parse_meter(std::string_view text, MeterSpec& out) {
    MeterSpec m;
    bool have_id = false, have_unit = false, in_band = false, have_rate = false, band_type = false;
    for (const Element& e : split_actions(text)) {
        if (e.key == "meter") {
            if (have_id) return error("duplicate meter", e.text);
            if (FlowError err = parse_id(e, kMaxMeterId, m.id)) return err;
            if (m.id == 0) return error("meter: meter ids start at 1", e.text);
            have_id = true;
        } else if ((e.key == "kbps" || e.key == "pktps") && e.sep == 0) {
            if (have_unit) return error("give one of kbps or pktps", e.text);
            m.pktps = e.key == "pktps";
            have_unit = true;
        } else if (e.key == "burst" && e.sep == 0) {
            m.burst = true;
        } else if (e.key == "stats" && e.sep == 0) {
            // Accepted for ovs-ofctl compatibility: meters always count.
        } else if (e.key == "band" && e.sep == '=') {
            if (in_band) return error("only one band is supported", e.text);
            in_band = true;
            std::string_view v = e.value;
            if (v.substr(0, 5) == "type=") {
                if (v.substr(5) != "drop") return error("band: only type=drop is supported", e.text);
                band_type = true;
            } else if (!v.empty()) {
                return error("band: expected band=type=drop", e.text);
            }
        } else if (e.key == "type" && e.sep == '=' && in_band) {
            if (band_type) return error("duplicate band type", e.text);
            if (e.value != "drop") return error("band: only type=drop is supported", e.text);
            band_type = true;
        } else if (e.key == "rate" && in_band) {
            if (have_rate) return error("duplicate rate", e.text);
            if (FlowError err = parse_id(e, 0xffffffff, m.rate)) return err;
            if (m.rate == 0) return error("rate: must be at least 1", e.text);
            have_rate = true;
        } else if (e.key == "burst_size" && in_band) {
            if (FlowError err = parse_id(e, 0xffffffff, m.burst_size)) return err;
        } else {
            return error("unknown meter property '" + std::string(e.text) + "'", e.text);
        }
    }
    if (!have_id) return error("missing meter=ID", "");
    if (!have_unit) return error("missing kbps or pktps", "");
    if (!in_band || !have_rate) return error("missing band=type=drop,rate=N", "");
    if (!band_type) return error("band: missing type=drop", "");
    if (m.burst_size && !m.burst) return error("burst_size needs the burst flag", "");
    out = m;
    return {};
}

std::string format_meter(const MeterSpec& m) {
    std::string s = "meter=" + std::to_string(m.id) + (m.pktps ? ",pktps" : ",kbps");
    if (m.burst) s += ",burst";
    s += ",band=type=drop,rate=" + std::to_string(m.rate);
    if (m.burst_size) s += ",burst_size=" + std::to_string(m.burst_size);
    return s;
}

FlowError parse_meter_id(std::string_view text, std::optional<uint32_t>& out) {
    out.reset();
    for (const Element& e : split_actions(text)) {
        if (e.key != "meter") return error("expected meter=N", e.text);
        if (out) return error("duplicate meter", e.text);
        uint32_t id = 0;
        if (FlowError err = parse_id(e, kMaxMeterId, id)) return err;
        out = id;
    }
    return {};
}

uint32_t select_hash(const FlowKey& k) {
    // FNV-1a over the select fields; stable across runs (tests can predict buckets).
    uint32_t h = 2166136261u;
    auto mix = [&](const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 16777619u;
    };
    mix(k.dl_src, 6);
    mix(k.dl_dst, 6);
    mix(&k.dl_type, 2);
    mix(&k.nw_src, 4);
    mix(&k.nw_dst, 4);
    mix(&k.nw_proto, 1);
    mix(&k.tp_src, 2);
    mix(&k.tp_dst, 2);
    return h;
}

}  // namespace vswitch::ofp
