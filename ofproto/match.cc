#include "ofproto/match.h"

namespace vswitch::ofp {

Match::Match() {
    value_.clear();
    mask_.clear();
    pvalue_.clear();
    pmask_.clear();
}

void Match::set_field(Field f, const FlowKey& value, const FlowKey& mask) {
    const uint8_t* v = field_bytes(value, f);
    const uint8_t* m = field_bytes(mask, f);
    uint8_t* dv = field_bytes(value_, f);
    uint8_t* dm = field_bytes(mask_, f);
    for (size_t i = 0; i < field_info(f).size; i++) {
        dm[i] = m[i];
        dv[i] = v[i] & m[i];
    }
}

bool Match::merge_field(Field f, const FlowKey& value, const FlowKey& mask) {
    const uint8_t* v = field_bytes(value, f);
    const uint8_t* m = field_bytes(mask, f);
    uint8_t* dv = field_bytes(value_, f);
    uint8_t* dm = field_bytes(mask_, f);
    for (size_t i = 0; i < field_info(f).size; i++)
        if ((v[i] & m[i] & dm[i]) != (dv[i] & m[i])) return false;
    for (size_t i = 0; i < field_info(f).size; i++) {
        dm[i] |= m[i];
        dv[i] |= v[i] & m[i];
    }
    return true;
}

void Match::set_metadata(uint64_t value, uint64_t mask) {
    pmask_.metadata = mask;
    pvalue_.metadata = value & mask;
}

void Match::set_reg(unsigned i, uint32_t value, uint32_t mask) {
    pmask_.regs[i] = mask;
    pvalue_.regs[i] = value & mask;
}

void Match::set_pipeline(const PipelineKey& value, const PipelineKey& mask) {
    pmask_ = mask;
    for (size_t i = 0; i < PipelineKey::kWords; i++)
        pvalue_.words()[i] = value.words()[i] & mask.words()[i];
}

bool Match::empty() const {
    for (size_t i = 0; i < FlowKey::kWords; i++)
        if (mask_.words()[i]) return false;
    for (size_t i = 0; i < PipelineKey::kWords; i++)
        if (pmask_.words()[i]) return false;
    return true;
}

bool Match::pipeline_matches(const PipelineKey& pkey) const {
    uint64_t diff = 0;
    for (size_t i = 0; i < PipelineKey::kWords; i++)
        diff |= (pkey.words()[i] & pmask_.words()[i]) ^ pvalue_.words()[i];
    return diff == 0;
}

bool Match::field_matches(Field f, const FlowKey& key) const {
    const uint8_t* k = field_bytes(key, f);
    const uint8_t* m = field_bytes(mask_, f);
    const uint8_t* v = field_bytes(value_, f);
    for (size_t i = 0; i < field_info(f).size; i++)
        if ((k[i] & m[i]) != v[i]) return false;
    return true;
}

namespace {
template <class Key>
bool words_cover(const Key& wide_v, const Key& wide_m, const Key& nar_v, const Key& nar_m) {
    for (size_t i = 0; i < Key::kWords; i++) {
        uint64_t m = wide_m.words()[i];
        if ((nar_m.words()[i] & m) != m) return false;
        if ((nar_v.words()[i] & m) != wide_v.words()[i]) return false;
    }
    return true;
}
}  // namespace

bool Match::covers(const Match& n) const {
    return words_cover(value_, mask_, n.value_, n.mask_) &&
           words_cover(pvalue_, pmask_, n.pvalue_, n.pmask_);
}

}  // namespace vswitch::ofp
