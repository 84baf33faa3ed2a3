// Match: what one OpenFlow rule matches, as value/mask pairs over
//  - the packet key (FlowKey): the only part a datapath megaflow can see, and
//  - the pipeline key (PipelineKey): registers and metadata that actions set while a
//    packet walks the tables (load, move, set_field, write_metadata). It starts all-zero
//    for every packet and never reaches a datapath mask.
//
// Invariant: value == value & mask, everywhere. So two matches accept the same packets
// iff they are byte-equal, and a match is one memcmp away from a duplicate check.
#pragma once

#include <cstdint>
#include <cstring>

#include "ofproto/fields.h"
#include "switch/flow_key.h"

namespace vswitch::ofp {

struct PipelineKey {
    uint64_t metadata;
    uint32_t regs[16];

    static constexpr size_t kWords = 9;
    uint64_t* words() { return reinterpret_cast<uint64_t*>(this); }
    const uint64_t* words() const { return reinterpret_cast<const uint64_t*>(this); }
    void clear() { std::memset(this, 0, sizeof(*this)); }
    bool operator==(const PipelineKey& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};
static_assert(sizeof(PipelineKey) == PipelineKey::kWords * 8, "PipelineKey must be whole words");

class Match {
public:
    Match();

    const FlowKey& value() const { return value_; }
    const FlowKey& mask() const { return mask_; }
    const PipelineKey& pipeline_value() const { return pvalue_; }
    const PipelineKey& pipeline_mask() const { return pmask_; }

    // Replaces field f with (value & mask, mask), taking f's bytes from the given keys.
    void set_field(Field f, const FlowKey& value, const FlowKey& mask);
    // ORs (value & mask, mask) into field f, for syntaxes that set parts of one field
    // (dl_vlan and dl_vlan_pcp). False, and nothing changed, if the two parts disagree
    // on a bit both of them fix.
    bool merge_field(Field f, const FlowKey& value, const FlowKey& mask);
    // Replaces the whole pipeline part.
    void set_pipeline(const PipelineKey& value, const PipelineKey& mask);
    void set_metadata(uint64_t value, uint64_t mask);
    void set_reg(unsigned i, uint32_t value, uint32_t mask);

    bool has(Field f) const { return field_any(mask_, f); }
    bool exact(Field f) const { return field_all(mask_, f); }
    bool empty() const;   // matches every packet

    bool matches(const FlowKey& key, const PipelineKey& pkey) const {
        return flow_key_matches(key, mask_, value_) && pipeline_matches(pkey);
    }
    bool pipeline_matches(const PipelineKey& pkey) const;
    // Does key agree with this match on field f (vacuously true if f is wildcarded)?
    bool field_matches(Field f, const FlowKey& key) const;

    // True if every packet `narrower` accepts is accepted by this match, judged field
    // by field as OpenFlow does for non-strict delete: narrower masks at least the bits
    // this one masks, with the same values there.
    bool covers(const Match& narrower) const;

    bool operator==(const Match& o) const = default;

private:
    FlowKey value_;
    FlowKey mask_;
    PipelineKey pvalue_;
    PipelineKey pmask_;
};

}  // namespace vswitch::ofp
