#include "ofproto/translate.h"

namespace vswitch::ofp {
namespace {

// Coarse fields first: they are the ones most rules (and most megaflows) already pin,
// so choosing them keeps megaflows wide.
constexpr Field kMismatchOrder[] = {
    Field::InPort, Field::DlType, Field::VlanTci, Field::DlSrc, Field::DlDst,
    Field::NwProto, Field::NwSrc, Field::NwDst, Field::TpSrc, Field::TpDst,
};
static_assert(std::size(kMismatchOrder) == kFieldCount);

class Xlate {
public:
    Xlate(const FlowTables& tables, const FlowKey& key, Translation& out, XlateObserver* obs)
        : tables_(tables), key_(key), out_(out), obs_(obs) {
        pkey_.clear();
    }

    void run() {
        // The pipeline issue turns this into a loop over goto_table / resubmit targets.
        if (const RulePtr* rule = lookup(0)) {
            out_.rules.push_back(*rule);
            execute((*rule)->actions());
        }
    }

private:
    // Highest-priority rule of table `id` matching the key, or null; accounts the
    // mask of everything it examined.
    const RulePtr* lookup(uint8_t id) {
        const FlowTables::RuleList& rules = tables_.table(id);
        size_t hit = 0;
        while (hit < rules.size() && !rules[hit]->match().matches(key_, pkey_)) hit++;
        // The winner first, so failing rules can reuse the fields it pins.
        if (hit < rules.size()) flow_key_or(out_.mask, rules[hit]->match().mask());
        for (size_t i = 0; i < hit; i++) account_failure(rules[i]->match());
        if (obs_) {
            for (size_t i = 0; i < hit; i++) obs_->rule_examined(id, *rules[i], false);
            if (hit < rules.size()) obs_->rule_examined(id, *rules[hit], true);
            else obs_->table_miss(id);
        }
        return hit < rules.size() ? &rules[hit] : nullptr;
    }

    void account_failure(const Match& m) {
        if (!m.pipeline_matches(pkey_)) return;
        const Field* chosen = nullptr;
        for (const Field& f : kMismatchOrder) {
            if (!m.has(f) || m.field_matches(f, key_)) continue;
            if (covered(m, f)) return;
            if (!chosen) chosen = &f;
        }
        // A failed match always has a mismatching field; be safe rather than wrong.
        if (!chosen) {
            flow_key_or(out_.mask, m.mask());
            return;
        }
        unwildcard(m, *chosen);
        for (Field p : kMismatchOrder)
            if (field_info(*chosen).prereqs & field_bit(p)) unwildcard(m, p);
    }

    // Are f's bits in m, and those of f's prerequisites, already in the mask?
    bool covered(const Match& m, Field f) const {
        for (Field g : kMismatchOrder) {
            if (g != f && !(field_info(f).prereqs & field_bit(g))) continue;
            const uint8_t* need = field_bytes(m.mask(), g);
            const uint8_t* have = field_bytes(out_.mask, g);
            for (size_t i = 0; i < field_info(g).size; i++)
                if (need[i] & ~have[i]) return false;
        }
        return true;
    }

    void unwildcard(const Match& m, Field f) {
        const uint8_t* src = field_bytes(m.mask(), f);
        uint8_t* dst = field_bytes(out_.mask, f);
        for (size_t i = 0; i < field_info(f).size; i++) dst[i] |= src[i];
    }

    void execute(const OfActionList& acts) {
        bool reads_in_port = false;
        for (const OfAction& a : acts) {
            std::visit(Overloaded{
                           [&](const OutputAction& o) {
                               reads_in_port = true;
                               if (o.port != key_.in_port)
                                   out_.actions.push_back(DpAction::output(o.port));
                           },
                           [&](const InPortAction&) {
                               reads_in_port = true;
                               out_.actions.push_back(DpAction::output(key_.in_port));
                           },
                       },
                       a);
        }
        if (reads_in_port) out_.mask.in_port = ~uint32_t{0};
    }

    const FlowTables& tables_;
    const FlowKey& key_;
    PipelineKey pkey_;   // registers/metadata; all zero until the pipeline issue
    Translation& out_;
    XlateObserver* obs_;
};

}  // namespace

void translate_key(const FlowTables& tables, const FlowKey& key, Translation& out,
                   XlateObserver* observer) {
    out.reset();
    Xlate(tables, key, out, observer).run();
}

}  // namespace vswitch::ofp
