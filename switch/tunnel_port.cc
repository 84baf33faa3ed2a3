#include "tunnel_port.h"

#include <arpa/inet.h>

#include "port_options.h"

namespace vswitch {

bool parse_tunnel_options(const std::string& type, const PortOptions& opts, TunnelPortConfig& cfg,
                          std::string& err) {
    cfg = TunnelPortConfig{};
    cfg.type = type == "gre" ? encap::TunnelType::Gre : encap::TunnelType::Vxlan;
    const bool vxlan = cfg.type == encap::TunnelType::Vxlan;
    if (vxlan) {
        if (!opt_known(opts, {"remote_ip", "key", "dst_port", "ttl", "tos", "df"}, err)) return false;
    } else if (!opt_known(opts, {"remote_ip", "key", "ttl", "tos", "df"}, err)) {
        return false;
    }
    std::string s;
    if (!opt_str(opts, "remote_ip", "flow", s, err)) return false;
    if (s != "flow") {
        in_addr a{};
        if (inet_pton(AF_INET, s.c_str(), &a) != 1 || a.s_addr == 0) {
            err = "options.remote_ip: '" + s + "' is not 'flow' or an IPv4 address";
            return false;
        }
        cfg.remote_ip = a.s_addr;
    }
    if (!opt_str(opts, "key", "flow", s, err)) return false;
    if (s != "flow") {
        cfg.key_flow = false;
        uint32_t k = 0;
        const uint32_t max = vxlan ? 0xffffff : 0xffffffff;
        if (!opt_uint(opts, "key", 0, max, 0, k, err)) return false;
        cfg.key = k;
    }
    uint32_t v = 0;
    if (vxlan) {
        if (!opt_uint(opts, "dst_port", 1, 65535, encap::kVxlanPort, v, err)) return false;
        cfg.dst_port = static_cast<uint16_t>(v);
    }
    if (!opt_uint(opts, "ttl", 1, 255, 64, v, err)) return false;
    cfg.ttl = static_cast<uint8_t>(v);
    if (!opt_uint(opts, "tos", 0, 255, 0, v, err)) return false;
    cfg.tos = static_cast<uint8_t>(v);
    if (!opt_str(opts, "df", "true", s, err, {"true", "false"})) return false;
    cfg.df = s == "true";
    return true;
}

TunnelPort::TunnelPort(const std::string& name, uint32_t port_no, const PortOptions& opts,
                       const TunnelPortConfig& cfg)
    : Port(name, port_no, PortType::Tunnel, opts), cfg_(cfg) {
    n_rxq_ = 0;
    n_txq_ = 0;
}

std::unique_ptr<Port> TunnelPort::create(const std::string& name, uint32_t port_no,
                                         const std::string& type, const PortOptions& opts,
                                         std::string& err) {
    TunnelPortConfig cfg;
    if (!parse_tunnel_options(type, opts, cfg, err)) return nullptr;
    return std::unique_ptr<Port>(new TunnelPort(name, port_no, opts, cfg));
}

}  // namespace vswitch
