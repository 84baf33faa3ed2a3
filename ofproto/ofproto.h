// ofproto: the OpenFlow-style pipeline. It owns the flow tables, parses and prints the
// ovs-ofctl flow syntax, and answers the datapath's upcalls (FlowTranslator) by running
// a packet key through the tables into datapath actions plus a megaflow mask.
//
// Threading:
//  - Control-thread methods (add/del/dump, version) are called from one thread only.
//  - translate() is called concurrently by PMD threads. It reads an immutable snapshot
//    of the tables published through an atomic pointer; after publishing a new snapshot
//    the control side calls the injected rcu_synchronize() and only then frees the old.
//  - Rules are shared between snapshots (shared_ptr) so their counters and creation
//    time survive unrelated changes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switch/upcall.h"

namespace vswitch {

// Port names <-> datapath/OpenFlow port numbers; implemented by switchd's wiring.
class PortDirectory {
public:
    virtual ~PortDirectory() = default;
    virtual std::optional<uint32_t> port_number(std::string_view name) const = 0;
    virtual std::string port_name(uint32_t port_no) const = 0;   // "" if unknown
};

// Error from the parser or a table operation. token = the offending token.
struct FlowError {
    std::string message;
    std::string token;
    explicit operator bool() const { return !message.empty(); }
};

struct FlowDump {
    uint64_t cookie;
    uint32_t table;
    uint32_t priority;
    double duration_s;
    uint64_t n_packets;
    uint64_t n_bytes;
    double idle_age_s;
    std::string match;    // canonical form, names for ports
    std::string actions;  // canonical form
};

class Ofproto final : public FlowTranslator {
public:
    Ofproto(const PortDirectory& ports, std::function<void()> rcu_synchronize);
    ~Ofproto() override;

    // FlowTranslator (PMD threads).
    bool translate(const FlowKey& key, Translation& out) const override;

    // Control thread. All-or-nothing: on error nothing changed.
    FlowError add_flows(const std::vector<std::string>& flows);
    FlowError del_flows(std::string_view match, bool strict, size_t* n_deleted);
    FlowError dump_flows(std::string_view filter, std::vector<FlowDump>& out) const;

    // Bumped by every change that can alter translation; the datapath revalidates its
    // megaflows when it moves.
    uint64_t version() const;
    size_t n_rules() const;

    // Canonical add-flow lines of every rule (the persistent store replays them).
    std::vector<std::string> serialize() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace vswitch
