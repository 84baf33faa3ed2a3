// The controller's overlay part: the underlay (set-uplink, neighbors) and keeping the
// pipeline's OverlayConfig in line with the tunnel ports (controller.h has the rules
// every handler follows: validate, apply, persist, acknowledge).
#include <arpa/inet.h>

#include <cstring>

#include <rte_mbuf.h>

#include "controller.h"
#include "ofproto/neighbors.h"
#include "ofproto/overlay_config.h"
#include "ofproto/value_syntax.h"
#include "overlay/encap/tunnel_header.h"
#include "switch/tunnel_port.h"

namespace vswitch {

namespace {

// The flow syntax's dotted-quad parser and formatter (value_syntax.h, host order),
// for the network-order addresses the overlay keeps.
bool parse_ipv4(const std::string& s, uint32_t& out) {
    uint32_t host = 0;
    if (!ofp::parse_ipv4(s, host).empty()) return false;
    out = htonl(host);
    return true;
}

std::string ipv4_str(uint32_t be) { return ofp::format_ipv4(ntohl(be)); }

void fail(api::Response& resp, const std::string& field, const std::string& msg) {
    resp.mutable_error()->set_field(field);
    resp.mutable_error()->set_message(msg);
}

}  // namespace

// Validates an uplink configuration into an Underlay (without the port's MAC/MTU
// defaults, which need the port). Errors name the request field.
bool Controller::parse_uplink(const api::UplinkConfig& c, ofp::Underlay& u, std::string& field,
                              std::string& err) const {
    u = ofp::Underlay{};
    Port* p = dp_.port_by_name(c.port());
    if (!p) {
        field = "uplink.port";
        err = "no port named '" + c.port() + "'";
        return false;
    }
    if (p->type() == PortType::Tunnel) {
        field = "uplink.port";
        err = "'" + c.port() + "' is a tunnel port; the uplink must be a vhost-user or dpdk port";
        return false;
    }
    u.port = p->port_no();
    std::string ip = c.local_ip();
    const size_t slash = ip.find('/');
    if (slash != std::string::npos) {
        const std::string len = ip.substr(slash + 1);
        char* end = nullptr;
        const unsigned long l = std::strtoul(len.c_str(), &end, 10);
        if (len.empty() || *end || l > 32) {
            field = "uplink.local_ip";
            err = "'" + c.local_ip() + "': prefix length must be 0..32";
            return false;
        }
        u.prefix_len = static_cast<uint8_t>(l);
        ip = ip.substr(0, slash);
    }
    if (!parse_ipv4(ip, u.local_ip) || u.local_ip == 0 || (ntohl(u.local_ip) >> 28) >= 14) {
        field = "uplink.local_ip";
        err = "'" + c.local_ip() + "' is not a unicast IPv4 address";
        return false;
    }
    if (!c.gateway().empty() && (!parse_ipv4(c.gateway(), u.gateway) || u.gateway == 0)) {
        field = "uplink.gateway";
        err = "'" + c.gateway() + "' is not an IPv4 address";
        return false;
    }
    if (c.mtu() != 0 && (c.mtu() < 576 || c.mtu() > 9600)) {
        field = "uplink.mtu";
        err = std::to_string(c.mtu()) + " is not in 576..9600";
        return false;
    }
    std::string mac = p->mac();
    if (mac.empty() || !ofp::parse_mac(mac, u.mac).empty()) {
        field = "uplink.port";
        err = "port '" + c.port() + "' has no MAC address to use as the VTEP's";
        return false;
    }
    // The outer source MAC of every encapsulated packet and the MAC ARP answers give:
    // all zeros (net_ring has no MAC) or multicast would make every tunnel output fail.
    if ((u.mac[0] & 1) || std::memcmp(u.mac, "\0\0\0\0\0\0", 6) == 0) {
        field = "uplink.port";
        err = "port '" + c.port() + "' has MAC " + mac +
              ", which cannot be the VTEP's (a dpdk port takes mac=)";
        return false;
    }
    u.mtu = static_cast<uint16_t>(c.mtu() ? c.mtu() : p->mtu());
    return true;
}

// The pipeline's view of the overlay: the tunnel ports as they are now, and the
// underlay if it is configured and its port exists.
void Controller::sync_overlay() {
    ofp::OverlayConfig cfg;
    for (Port* p : dp_.ports())
        if (auto* t = dynamic_cast<TunnelPort*>(p)) cfg.tunnels[p->port_no()] = t->tunnel();
    if (!uplink_.port().empty()) {
        std::string field, err;
        if (!parse_uplink(uplink_, cfg.underlay, field, err)) {
            fprintf(stderr, "switchd: uplink %s not active: %s\n", uplink_.port().c_str(), err.c_str());
            cfg.underlay = ofp::Underlay{};
        }
    }
    // The VMs' MTU follows the underlay's (their DHCP answers tell it); 1500 until an
    // uplink is active.
    const uint16_t mtu = cfg.underlay.port ? cfg.underlay.mtu : 1500;
    ofp_.set_overlay(std::move(cfg));
    if (FlowError fe = vpc_.manager().set_underlay_mtu(mtu))
        fprintf(stderr, "switchd: VPC DHCP answers not updated for MTU %u: %s\n", mtu, fe.message.c_str());
}

// Each set-uplink makes sure vxlan0 and gre0 exist (the VPC layer's tunnel ports).
bool Controller::ensure_tunnel_port(const std::string& name, const std::string& type,
                                    std::string& err) {
    if (Port* p = dp_.port_by_name(name)) {
        if (p->type() == PortType::Tunnel && type == p->type_name()) return true;
        err = "port '" + name + "' exists and is not a " + type + " tunnel port";
        return false;
    }
    api::AddPortRequest r;
    r.mutable_port()->set_name(name);
    r.mutable_port()->set_type(type);
    api::Response resp;
    add_port(r, resp);
    if (resp.has_error()) {
        err = resp.error().message();
        return false;
    }
    return true;
}

void Controller::set_uplink(const api::SetUplinkRequest& r, api::Response& resp) {
    ofp::Underlay u;
    std::string field, err;
    if (!parse_uplink(r.uplink(), u, field, err)) return fail(resp, field, err);
    if (!ensure_tunnel_port("vxlan0", "vxlan", err) || !ensure_tunnel_port("gre0", "gre", err))
        return fail(resp, "uplink", err);
    api::UplinkConfig old = uplink_;
    uplink_ = r.uplink();
    if (!persist(err)) {
        uplink_ = old;
        return fail(resp, "", "not saved, uplink not changed: " + err);
    }
    sync_overlay();
    revalidate(true);
    resp.mutable_set_uplink();
}

void Controller::del_uplink(api::Response& resp) {
    api::UplinkConfig old = uplink_;
    uplink_.Clear();
    std::string err;
    if (!persist(err)) {
        uplink_ = old;
        return fail(resp, "", "not saved, uplink not removed: " + err);
    }
    sync_overlay();
    ofp_.neighbors().clear_learned();
    revalidate(true);
    resp.mutable_del_uplink();
}

void Controller::add_neighbor(const api::AddNeighborRequest& r, api::Response& resp) {
    if (uplink_.port().empty() || r.port() != uplink_.port())
        return fail(resp, "port", "'" + r.port() + "' is not the uplink (set-uplink first)");
    uint32_t ip = 0;
    if (!parse_ipv4(r.ip(), ip) || ip == 0) return fail(resp, "ip", "'" + r.ip() + "' is not an IPv4 address");
    uint8_t mac[6];
    if (std::string e = ofp::parse_mac(r.mac(), mac); !e.empty() || (mac[0] & 1) ||
                                                     std::memcmp(mac, "\0\0\0\0\0\0", 6) == 0)
        return fail(resp, "mac", "'" + r.mac() + "' is not a unicast MAC address");
    auto keep = static_neighbors_;
    std::erase_if(static_neighbors_, [&](const api::AddNeighborRequest& n) { return n.ip() == r.ip(); });
    static_neighbors_.push_back(r);
    std::string err;
    if (!persist(err)) {
        static_neighbors_ = keep;
        return fail(resp, "", "not saved, neighbor not added: " + err);
    }
    ofp_.neighbors().set_static(ip, mac);
    revalidate(true);
    resp.mutable_add_neighbor();
}

void Controller::del_neighbor(const api::DelNeighborRequest& r, api::Response& resp) {
    if (uplink_.port().empty() || r.port() != uplink_.port())
        return fail(resp, "port", "'" + r.port() + "' is not the uplink");
    uint32_t ip = 0;
    if (!parse_ipv4(r.ip(), ip)) return fail(resp, "ip", "'" + r.ip() + "' is not an IPv4 address");
    auto keep = static_neighbors_;
    std::erase_if(static_neighbors_, [&](const api::AddNeighborRequest& n) { return n.ip() == r.ip(); });
    std::string err;
    if (!persist(err)) {
        static_neighbors_ = keep;
        return fail(resp, "", "not saved, neighbor not removed: " + err);
    }
    if (!ofp_.neighbors().remove(ip) && keep.size() == static_neighbors_.size())
        return fail(resp, "ip", "no neighbor " + r.ip());
    revalidate(true);
    resp.mutable_del_neighbor();
}

void Controller::show_uplink(api::Response& resp) {
    auto* out = resp.mutable_show_uplink();
    const ofp::OverlayConfig& ov = ofp_.overlay();
    for (const auto& [no, t] : ov.tunnels) {
        std::string s = port_name(no) + " (" + (t.type == encap::TunnelType::Vxlan ? "vxlan" : "gre");
        if (t.type == encap::TunnelType::Vxlan) s += ", dst_port " + std::to_string(t.dst_port);
        s += std::string(", remote_ip ") + (t.remote_ip ? ipv4_str(t.remote_ip) : "flow");
        s += std::string(", key ") + (t.key_flow ? "flow" : std::to_string(t.key)) + ")";
        out->add_tunnel_ports(s);
    }
    for (const ofp::NeighborEntry& e : ofp_.neighbors().dump()) {
        auto* n = out->add_neighbors();
        n->set_ip(ipv4_str(e.ip));
        n->set_mac(ofp::format_mac(e.mac));
        n->set_is_static(e.is_static);
        n->set_age_s(e.age_s);
        n->set_probing(e.probing);
    }
    out->set_arp_requests_sent(ofp_.neighbors().requests_sent());
    out->set_neighbor_aging_s(ofp_.neighbors().aging());
    out->set_neighbors_aged_out(ofp_.neighbors().aged_out());
    if (uplink_.port().empty()) return;
    out->set_configured(true);
    *out->mutable_uplink() = uplink_;
    if (ov.underlay.port) {
        out->set_mac(ofp::format_mac(ov.underlay.mac));
        out->set_mtu(ov.underlay.mtu);
    }
}

// Every tick: ARP requests for the next hops translations asked for.
void Controller::resolve_neighbors() {
    const ofp::Underlay& u = ofp_.overlay().underlay;
    std::vector<uint32_t> due = ofp_.neighbors().due_requests();
    if (u.port == 0) return;
    for (uint32_t ip : due) {
        rte_mbuf* m = encap::arp_build_request(u.mac, u.local_ip, ip, dp_.mbuf_pool());
        if (m) dp_.inject(u.port, m);
    }
}

void Controller::restore_overlay(const store::StoredState& s) {
    if (s.has_uplink() && !s.uplink().port().empty()) uplink_ = s.uplink();
    for (const auto& n : s.neighbors()) {
        uint32_t ip = 0;
        uint8_t mac[6];
        if (!parse_ipv4(n.ip(), ip) || !ofp::parse_mac(n.mac(), mac).empty()) continue;
        static_neighbors_.push_back(n);
        ofp_.neighbors().set_static(ip, mac);
    }
    sync_overlay();
}

void Controller::save_overlay(store::StoredState& s) const {
    if (!uplink_.port().empty()) *s.mutable_uplink() = uplink_;
    for (const auto& n : static_neighbors_) *s.add_neighbors() = n;
}

}  // namespace vswitch
