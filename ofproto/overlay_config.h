// What translation needs to know about the overlay: the underlay (the uplink that is the
// VTEP: its port, local IP, MAC, MTU, optional gateway) and the tunnel ports. Part of a
// FlowTables snapshot, so a translation sees one consistent view.
//
// One underlay per switch: every tunnel port encapsulates towards it, and tunnel traffic
// is terminated on it only.
#pragma once

#include <cstdint>
#include <map>

#include <arpa/inet.h>

#include "switch/tunnel_port.h"

namespace vswitch::ofp {

struct Underlay {
    uint32_t port = 0;        // uplink port number; 0 = no underlay configured
    uint32_t local_ip = 0;    // network order
    uint8_t prefix_len = 32;  // of the local subnet; 32 = every remote is on-link
    uint32_t gateway = 0;     // network order; next hop for remotes off the local subnet
    uint8_t mac[6] = {};      // the uplink's MAC (outer source, ARP replies)
    uint16_t mtu = 1500;      // largest outer IP packet
    bool operator==(const Underlay&) const = default;
};

struct OverlayConfig {
    Underlay underlay;
    std::map<uint32_t, TunnelPortConfig> tunnels;   // by port number
    bool operator==(const OverlayConfig&) const = default;

    const TunnelPortConfig* tunnel(uint32_t port) const {
        auto it = tunnels.find(port);
        return it == tunnels.end() ? nullptr : &it->second;
    }
    // The next hop towards remote VTEP dst (network order).
    uint32_t next_hop(uint32_t dst) const {
        if (underlay.prefix_len >= 32 || underlay.gateway == 0) return dst;
        const uint32_t mask = underlay.prefix_len == 0 ? 0 : htonl(~0u << (32 - underlay.prefix_len));
        return ((dst ^ underlay.local_ip) & mask) == 0 ? dst : underlay.gateway;
    }
};

}  // namespace vswitch::ofp
