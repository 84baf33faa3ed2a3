// Port names <-> numbers for the pipeline, answered from the datapath's port table.
// Control thread only (ofproto asks while parsing and printing flows).
#pragma once

#include "ofproto/ofproto.h"
#include "switch/datapath.h"

namespace vswitch {

class DatapathPortDirectory final : public PortDirectory {
public:
    explicit DatapathPortDirectory(const Datapath*& dp) : dp_(dp) {}
    std::optional<uint32_t> port_number(std::string_view name) const override {
        if (!dp_) return std::nullopt;
        if (Port* p = dp_->port_by_name(std::string(name))) return p->port_no();
        return std::nullopt;
    }
    std::string port_name(uint32_t no) const override {
        if (!dp_) return "";
        Port* p = dp_->port(no);
        return p ? p->name() : "";
    }

private:
    const Datapath*& dp_;   // set once the datapath exists (it needs the pipeline first)
};

}  // namespace vswitch
