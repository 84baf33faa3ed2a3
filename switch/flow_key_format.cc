#include "flow_key_format.h"

#include <arpa/inet.h>

#include <cstdio>

namespace vswitch {
namespace {

std::string mac_str(const uint8_t* m) {
    char b[18];
    snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return b;
}

bool all_ones(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xff) return false;
    return true;
}
bool all_zero(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

std::string ip4_str(uint32_t be) {
    char b[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &be, b, sizeof(b));
    return b;
}

// Appends "name=value[/mask]" to a comma list when the mask is non-zero.
void add(std::string& out, const char* name, const std::string& v, const std::string& m, bool exact,
         bool any) {
    if (!any) return;
    if (!out.empty()) out += ",";
    out += name;
    out += "=";
    out += v;
    if (!exact) {
        out += '/';
        out += m;
    }
}

void group(std::string& out, const char* name, const std::string& inner) {
    if (inner.empty()) return;
    if (!out.empty()) out += ",";
    out += name;
    out += '(';
    out += inner;
    out += ')';
}

std::string num(unsigned v, bool hex = false) {
    char b[16];
    snprintf(b, sizeof(b), hex ? "0x%x" : "%u", v);
    return b;
}

}  // namespace

std::string format_masked_key(const FlowKey& k, const FlowKey& m,
                              const std::function<std::string(uint32_t)>& port_name) {
    std::string out;
    if (m.recirc_id) group(out, "recirc_id", num(k.recirc_id, true));
    if (m.tun_id || m.tun_src || m.tun_dst) {
        std::string t;
        add(t, "tun_id", num(static_cast<unsigned>(k.tun_id), true), num(static_cast<unsigned>(m.tun_id), true),
            m.tun_id == ~0ULL, m.tun_id != 0);
        add(t, "src", ip4_str(k.tun_src), ip4_str(m.tun_src), m.tun_src == ~0u, m.tun_src != 0);
        add(t, "dst", ip4_str(k.tun_dst), ip4_str(m.tun_dst), m.tun_dst == ~0u, m.tun_dst != 0);
        group(out, "tunnel", t);
    }
    if (m.in_port) {
        std::string n = port_name ? port_name(k.in_port) : "";
        group(out, "in_port", n.empty() ? num(k.in_port) : n);
    }
    {
        std::string e;
        add(e, "src", mac_str(k.dl_src), mac_str(m.dl_src), all_ones(m.dl_src, 6), !all_zero(m.dl_src, 6));
        add(e, "dst", mac_str(k.dl_dst), mac_str(m.dl_dst), all_ones(m.dl_dst, 6), !all_zero(m.dl_dst, 6));
        group(out, "eth", e);
    }
    if (m.vlan_tci) {
        uint16_t tci = ntohs(k.vlan_tci), mt = ntohs(m.vlan_tci);
        std::string v;
        add(v, "vid", num(tci & 0xfff), num(mt & 0xfff, true), (mt & 0xfff) == 0xfff, (mt & 0xfff) != 0);
        add(v, "pcp", num(tci >> 13), num(mt >> 13, true), (mt >> 13) == 7, (mt >> 13) != 0);
        if (!(tci & 0x1000) && (mt & 0x1000)) v = "none";
        group(out, "vlan", v);
    }
    if (m.dl_type) {
        std::string t = num(ntohs(k.dl_type), true);
        if (m.dl_type != 0xffff) {
            t += '/';
            t += num(ntohs(m.dl_type), true);
        }
        group(out, "eth_type", t);
    }

    const uint16_t type = ntohs(k.dl_type);
    std::string l3;
    add(l3, "src", ip4_str(k.nw_src), ip4_str(m.nw_src), m.nw_src == ~0u, m.nw_src != 0);
    add(l3, "dst", ip4_str(k.nw_dst), ip4_str(m.nw_dst), m.nw_dst == ~0u, m.nw_dst != 0);
    if (type == 0x86dd) {
        char b[INET6_ADDRSTRLEN], mb[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, k.ipv6_src, b, sizeof(b));
        inet_ntop(AF_INET6, m.ipv6_src, mb, sizeof(mb));
        add(l3, "src", b, mb, all_ones(m.ipv6_src, 16), !all_zero(m.ipv6_src, 16));
        inet_ntop(AF_INET6, k.ipv6_dst, b, sizeof(b));
        inet_ntop(AF_INET6, m.ipv6_dst, mb, sizeof(mb));
        add(l3, "dst", b, mb, all_ones(m.ipv6_dst, 16), !all_zero(m.ipv6_dst, 16));
    }
    add(l3, type == 0x0806 ? "op" : "proto", num(k.nw_proto), num(m.nw_proto, true), m.nw_proto == 0xff, m.nw_proto != 0);
    add(l3, "tos", num(k.nw_tos), num(m.nw_tos, true), m.nw_tos == 0xff, m.nw_tos != 0);
    add(l3, "ttl", num(k.nw_ttl), num(m.nw_ttl, true), m.nw_ttl == 0xff, m.nw_ttl != 0);
    add(l3, "frag", num(k.nw_frag), num(m.nw_frag, true), m.nw_frag == 0xff, m.nw_frag != 0);
    group(out, type == 0x0806 ? "arp" : type == 0x86dd ? "ipv6" : "ipv4", l3);

    std::string l4;
    add(l4, "src", num(ntohs(k.tp_src)), num(ntohs(m.tp_src), true), m.tp_src == 0xffff, m.tp_src != 0);
    add(l4, "dst", num(ntohs(k.tp_dst)), num(ntohs(m.tp_dst), true), m.tp_dst == 0xffff, m.tp_dst != 0);
    const char* l4name = k.nw_proto == 6 ? "tcp" : k.nw_proto == 17 ? "udp" : k.nw_proto == 1 ? "icmp" : "l4";
    group(out, l4name, l4);
    return out.empty() ? "(all wildcarded)" : out;
}

}  // namespace vswitch
