#include "overlay/vpc/vpc_model.h"

#include <algorithm>
#include <cctype>

namespace vswitch::vpc {

namespace {

VpcError err(std::string field, std::string message) {
    return VpcError{std::move(field), std::move(message)};
}

// "mac" of "endpoint.mac", "ips[1]" of "binding.ips[1]".
std::string leaf(const std::string& field) {
    size_t dot = field.rfind('.');
    return dot == std::string::npos ? field : field.substr(dot + 1);
}

VpcError ferr(const std::string& field, const std::string& problem) {
    return err(field, leaf(field) + ": " + problem);
}

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

bool parse_dec(std::string_view s, uint32_t max, uint32_t& out) {
    if (s.empty() || s.size() > 10) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > max) return false;
    out = static_cast<uint32_t>(v);
    return true;
}

// A unicast MAC for a VM: parses, not multicast/broadcast, not zero, not the router's.
VpcError check_mac(const Vpc& v, const std::string& field, const std::string& text, Mac& out) {
    if (text.empty()) return ferr(field, "missing (a MAC address such as 52:54:00:00:00:01)");
    if (!parse_mac(text, out)) return ferr(field, q(text) + " is not a MAC address");
    if (out == 0) return ferr(field, "the zero MAC " + q(text) + " cannot be used");
    if (out & (Mac{1} << 40)) return ferr(field, q(text) + " is a multicast/broadcast MAC, not unicast");
    if (out == v.rmac())
        return ferr(field, q(text) + " is the VPC's router MAC (0a:56:00 + VNI)");
    return {};
}

// A VM address: inside one of the VPC's subnets, not its network, broadcast or gateway
// address, not used by another binding/endpoint of the VPC.
VpcError check_vm_ip(const Vpc& v, const std::string& field, const std::string& text,
                     uint32_t& out) {
    if (text.empty()) return ferr(field, "missing (an IPv4 address)");
    if (!parse_ip(text, out)) return ferr(field, q(text) + " is not an IPv4 address");
    const Subnet* s = v.subnet_of(out);
    if (!s) return ferr(field, text + " is not inside any subnet of VPC " + q(v.name));
    if (out == s->cidr.addr || out == s->cidr.broadcast())
        return ferr(field, text + " is the network or broadcast address of " + format_cidr(s->cidr));
    if (out == s->gateway) return ferr(field, text + " is the gateway of " + format_cidr(s->cidr));
    if (v.ip_owner.count(out))
        return ferr(field, text + " is already used in VPC " + q(v.name) + " (by " +
                               format_mac(v.ip_owner.at(out)) + ")");
    return {};
}

// A MAC not yet used by a binding or endpoint of the VPC.
VpcError check_mac_free(const Vpc& v, const std::string& field, Mac mac) {
    if (v.endpoints.count(mac))
        return ferr(field, format_mac(mac) + " is already used by an endpoint of VPC " + q(v.name));
    if (auto it = v.binding_mac.find(mac); it != v.binding_mac.end())
        return ferr(field, format_mac(mac) + " is already used by port " + q(it->second) +
                               " of VPC " + q(v.name));
    return {};
}

}  // namespace

bool parse_mac(std::string_view s, Mac& out) {
    Mac m = 0;
    size_t i = 0;
    for (int byte = 0; byte < 6; byte++) {
        if (byte) {
            if (i >= s.size() || s[i] != ':') return false;
            i++;
        }
        int digits = 0;
        unsigned v = 0;
        while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i])) && digits < 2) {
            char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
            v = v * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
            i++;
            digits++;
        }
        if (!digits) return false;
        m = (m << 8) | v;
    }
    if (i != s.size()) return false;
    out = m;
    return true;
}

char* format_mac_to(Mac m, char* out) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 5; i >= 0; i--) {
        const unsigned byte = unsigned(m >> (8 * i)) & 0xff;
        *out++ = kHex[byte >> 4];
        *out++ = kHex[byte & 15];
        if (i) *out++ = ':';
    }
    return out;
}

std::string format_mac(Mac m) {
    char b[17];
    return std::string(b, format_mac_to(m, b));
}

bool parse_ip(std::string_view s, uint32_t& out) {
    uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= s.size() || s[i] != '.') return false;
            i++;
        }
        size_t start = i;
        uint32_t octet = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) octet = octet * 10 + uint32_t(s[i++] - '0');
        if (i == start || octet > 255) return false;
        v = (v << 8) | octet;
    }
    if (i != s.size()) return false;
    out = v;
    return true;
}

char* format_ip_to(uint32_t ip, char* out) {
    for (int i = 3; i >= 0; i--) {
        const unsigned byte = ip >> (8 * i) & 0xff;
        if (byte >= 100) *out++ = static_cast<char>('0' + byte / 100);
        if (byte >= 10) *out++ = static_cast<char>('0' + byte / 10 % 10);
        *out++ = static_cast<char>('0' + byte % 10);
        if (i) *out++ = '.';
    }
    return out;
}

std::string format_ip(uint32_t ip) {
    char b[15];
    return std::string(b, format_ip_to(ip, b));
}

bool parse_cidr(std::string_view s, Cidr& out, bool* host_bits) {
    size_t slash = s.find('/');
    uint32_t ip, len = 32;
    if (!parse_ip(s.substr(0, slash), ip)) return false;
    if (slash != std::string_view::npos && !parse_dec(s.substr(slash + 1), 32, len)) return false;
    Cidr c;
    c.len = static_cast<uint8_t>(len);
    c.addr = ip & c.mask();
    if (host_bits) *host_bits = c.addr != ip;
    out = c;
    return true;
}

std::string format_cidr(const Cidr& c) { return format_ip(c.addr) + "/" + std::to_string(c.len); }

bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > 32 || (s[0] >= '0' && s[0] <= '9')) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
    return true;
}

const char* op_name(OpKind k) {
    switch (k) {
    case OpKind::CreateVpc: return "create_vpc";
    case OpKind::DeleteVpc: return "delete_vpc";
    case OpKind::AddSubnet: return "add_subnet";
    case OpKind::DelSubnet: return "del_subnet";
    case OpKind::Bind: return "bind";
    case OpKind::Unbind: return "unbind";
    case OpKind::AddEndpoint: return "add_endpoint";
    case OpKind::DelEndpoint: return "del_endpoint";
    case OpKind::AddRule: return "add_rule";
    case OpKind::DelRule: return "del_rule";
    }
    return "?";
}

const char* encap_name(Encap e) { return e == Encap::Gre ? "gre" : "vxlan"; }
const char* direction_name(Direction d) { return d == Direction::Egress ? "egress" : "ingress"; }
const char* proto_name(Proto p) {
    switch (p) {
    case Proto::Tcp: return "tcp";
    case Proto::Udp: return "udp";
    case Proto::Icmp: return "icmp";
    case Proto::Any: break;
    }
    return "any";
}

const Subnet* Vpc::subnet_of(uint32_t ip) const {
    // Subnets do not overlap, so the one containing ip (if any) is the one with the
    // greatest network address <= ip.
    auto it = subnets.upper_bound(Cidr{ip, 32});
    if (it == subnets.begin()) return nullptr;
    --it;
    return it->second.cidr.contains(ip) ? &it->second : nullptr;
}

uint64_t Model::generation_of(std::string_view name) const {
    if (const Vpc* v = find(name)) return v->generation;
    auto it = tombstones.find(name);
    return it == tombstones.end() ? 0 : it->second;
}

// ---------------------------------------------------------------- validation

VpcError check_create(const Model& m, const Op& op, uint32_t& vni, Encap& encap) {
    if (!valid_name(op.vpc))
        return ferr("vpc", q(op.vpc) + " is not a valid VPC name (1-32 of [A-Za-z0-9_.-], not starting with a digit)");
    if (m.find(op.vpc)) return ferr("vpc", "VPC " + q(op.vpc) + " already exists");
    if (m.vpcs.size() >= kMaxVpcs) return ferr("vpc", "too many VPCs (at most 65535)");
    if (op.vni < 1 || op.vni > kMaxVni)
        return ferr("vni", std::to_string(op.vni) + " is out of range (1-16777215)");
    if (auto it = m.vni_owner.find(op.vni); it != m.vni_owner.end())
        return ferr("vni", std::to_string(op.vni) + " is already used by VPC " + q(it->second));
    if (op.encap.empty() || op.encap == "vxlan") encap = Encap::Vxlan;
    else if (op.encap == "gre") encap = Encap::Gre;
    else return ferr("encap", "unknown encapsulation " + q(op.encap) + " (vxlan or gre)");
    vni = op.vni;
    return {};
}

VpcError check_vpc(const Model& m, const Op& op, Vpc*& vpc) {
    vpc = m.find(op.vpc);
    if (!vpc) {
        if (op.vpc.empty()) return ferr("vpc", "missing VPC name");
        return ferr("vpc", "no VPC named " + q(op.vpc));
    }
    return {};
}

VpcError check_add_subnet(const Vpc& v, const SubnetSpec& s, Subnet& out) {
    bool host_bits = false;
    if (s.cidr.empty()) return ferr("subnet.cidr", "missing (a CIDR such as 10.1.0.0/24)");
    if (!parse_cidr(s.cidr, out.cidr, &host_bits) || s.cidr.find('/') == std::string::npos)
        return ferr("subnet.cidr", q(s.cidr) + " is not an IPv4 CIDR (a.b.c.d/N)");
    if (host_bits)
        return ferr("subnet.cidr", q(s.cidr) + " has host bits set (did you mean " +
                                       format_cidr(out.cidr) + "?)");
    if (out.cidr.len < 1 || out.cidr.len > 30)
        return ferr("subnet.cidr", "prefix length /" + std::to_string(out.cidr.len) +
                                       " out of range (1-30)");
    for (const auto& [c, sub] : v.subnets)
        if (c.overlaps(out.cidr))
            return ferr("subnet.cidr", format_cidr(out.cidr) + " overlaps subnet " + format_cidr(c) +
                                           " of VPC " + q(v.name));
    if (s.gateway.empty()) {
        out.gateway = out.cidr.addr + 1;
    } else {
        if (!parse_ip(s.gateway, out.gateway))
            return ferr("subnet.gateway", q(s.gateway) + " is not an IPv4 address");
        if (!out.cidr.contains(out.gateway))
            return ferr("subnet.gateway", s.gateway + " is not inside " + format_cidr(out.cidr));
        if (out.gateway == out.cidr.addr || out.gateway == out.cidr.broadcast())
            return ferr("subnet.gateway", s.gateway + " is the network or broadcast address of " +
                                              format_cidr(out.cidr));
    }
    if (s.dns.size() > kMaxDns)
        return ferr("subnet.dns", std::to_string(s.dns.size()) + " servers: at most " + std::to_string(kMaxDns));
    for (size_t i = 0; i < s.dns.size(); i++) {
        const std::string field = "subnet.dns[" + std::to_string(i) + "]";
        uint32_t ip = 0;
        if (!parse_ip(s.dns[i], ip)) return ferr(field, q(s.dns[i]) + " is not an IPv4 address");
        if (ip == 0 || ip == 0xffffffffu || (ip >> 28) == 0xe)
            return ferr(field, s.dns[i] + " is not a unicast address");
        for (uint32_t d : out.dns)
            if (d == ip) return ferr(field, s.dns[i] + " is given twice");
        out.dns.push_back(ip);
    }
    return {};
}

VpcError check_del_subnet(const Vpc& v, const SubnetSpec& s, Cidr& out) {
    bool host_bits = false;
    if (!parse_cidr(s.cidr, out, &host_bits) || host_bits)
        return ferr("subnet.cidr", q(s.cidr) + " is not an IPv4 CIDR (a.b.c.d/N)");
    if (!v.subnets.count(out))
        return ferr("subnet.cidr", "VPC " + q(v.name) + " has no subnet " + format_cidr(out));
    for (const auto& [ip, mac] : v.ip_owner)
        if (out.contains(ip))
            return ferr("subnet.cidr", "subnet " + format_cidr(out) + " is still in use by " +
                                           format_ip(ip) + " (" + format_mac(mac) +
                                           "); unbind or delete it first");
    return {};
}

VpcError check_bind(const Model& m, const Vpc& v, const BindingSpec& s, Binding& out) {
    if (!valid_name(s.port))
        return ferr("binding.port", q(s.port) + " is not a valid port name (1-32 of [A-Za-z0-9_.-], not starting with a digit)");
    if (auto it = m.port_owner.find(s.port); it != m.port_owner.end())
        return ferr("binding.port", "port " + q(s.port) + " is already bound to VPC " + q(it->second));
    out.port = s.port;
    if (VpcError e = check_mac(v, "binding.mac", s.mac, out.mac)) return e;
    if (VpcError e = check_mac_free(v, "binding.mac", out.mac)) return e;
    if (s.ips.empty()) return ferr("binding.ips", "at least one IP address is needed");
    out.ips.clear();
    for (size_t i = 0; i < s.ips.size(); i++) {
        std::string field = "binding.ips[" + std::to_string(i) + "]";
        uint32_t ip;
        if (VpcError e = check_vm_ip(v, field, s.ips[i], ip)) return e;
        for (uint32_t prev : out.ips)
            if (prev == ip) return ferr(field, s.ips[i] + " is given twice");
        out.ips.push_back(ip);
    }
    return {};
}

VpcError check_unbind(const Vpc& v, const BindingSpec& s) {
    if (!v.bindings.count(s.port))
        return ferr("binding.port", "port " + q(s.port) + " is not bound to VPC " + q(v.name));
    return {};
}

VpcError check_add_endpoint(const Vpc& v, const EndpointSpec& s, Endpoint& out) {
    if (VpcError e = check_mac(v, "endpoint.mac", s.mac, out.mac)) return e;
    if (VpcError e = check_mac_free(v, "endpoint.mac", out.mac)) return e;
    if (VpcError e = check_vm_ip(v, "endpoint.ip", s.ip, out.ip)) return e;
    if (s.host.empty()) return ferr("endpoint.host", "missing (the remote host's underlay IPv4 address)");
    if (!parse_ip(s.host, out.host)) return ferr("endpoint.host", q(s.host) + " is not an IPv4 address");
    if (out.host == 0 || out.host == 0xffffffffu || (out.host >> 28) == 0xe || (out.host >> 24) == 127)
        return ferr("endpoint.host", s.host + " is not a unicast host address");
    return {};
}

VpcError check_del_endpoint(const Vpc& v, const EndpointSpec& s, Mac& out) {
    if (!parse_mac(s.mac, out)) return ferr("endpoint.mac", q(s.mac) + " is not a MAC address");
    if (!v.endpoints.count(out))
        return ferr("endpoint.mac", "VPC " + q(v.name) + " has no endpoint " + format_mac(out));
    return {};
}

VpcError parse_rule(const RuleSpec& s, RuleKey& out) {
    out.port = s.port;
    if (s.direction == "ingress") out.dir = Direction::Ingress;
    else if (s.direction == "egress") out.dir = Direction::Egress;
    else return ferr("rule.direction", q(s.direction) + " is not a direction (ingress or egress)");
    if (s.protocol == "tcp") out.proto = Proto::Tcp;
    else if (s.protocol == "udp") out.proto = Proto::Udp;
    else if (s.protocol == "icmp") out.proto = Proto::Icmp;
    else if (s.protocol == "any" || s.protocol.empty()) out.proto = Proto::Any;
    else return ferr("rule.protocol", q(s.protocol) + " is not a protocol (tcp, udp, icmp or any)");
    bool host_bits = false;
    if (s.cidr.empty()) out.cidr = Cidr{};
    else if (!parse_cidr(s.cidr, out.cidr, &host_bits))
        return ferr("rule.cidr", q(s.cidr) + " is not an IPv4 CIDR (a.b.c.d/N)");
    else if (host_bits)
        return ferr("rule.cidr", q(s.cidr) + " has host bits set (did you mean " +
                                     format_cidr(out.cidr) + "?)");
    uint32_t lo = s.port_min, hi = s.port_max ? s.port_max : s.port_min;
    if (lo == 0 && hi == 0) hi = 65535;
    if (lo > 65535) return ferr("rule.port_min", std::to_string(lo) + " is out of range (0-65535)");
    if (hi > 65535) return ferr("rule.port_max", std::to_string(hi) + " is out of range (0-65535)");
    if (lo > hi)
        return ferr("rule.port_max", std::to_string(hi) + " is below port_min " + std::to_string(lo));
    if ((out.proto == Proto::Any || out.proto == Proto::Icmp) && (lo != 0 || hi != 65535))
        return ferr("rule.port_min", "a port range needs protocol tcp or udp");
    out.port_min = static_cast<uint16_t>(lo);
    out.port_max = static_cast<uint16_t>(hi);
    return {};
}

VpcError check_rule(const Vpc& v, const RuleSpec& s, bool exists, RuleKey& out) {
    if (!v.bindings.count(s.port))
        return ferr("rule.port", "port " + q(s.port) + " is not bound to VPC " + q(v.name));
    if (VpcError e = parse_rule(s, out)) return e;
    bool found = v.rules.count(out) > 0;
    if (exists && !found) return err("rule", "rule: no such rule on port " + q(s.port));
    if (!exists && found) return err("rule", "rule: the same rule already exists on port " + q(s.port));
    return {};
}

// ---------------------------------------------------------------- specs

SubnetSpec to_spec(const Subnet& s) {
    SubnetSpec out{format_cidr(s.cidr), format_ip(s.gateway), {}};
    for (uint32_t d : s.dns) out.dns.push_back(format_ip(d));
    return out;
}

BindingSpec to_spec(const Binding& b) {
    BindingSpec s{b.port, format_mac(b.mac), {}};
    for (uint32_t ip : b.ips) s.ips.push_back(format_ip(ip));
    return s;
}

EndpointSpec to_spec(const Endpoint& e) { return {format_mac(e.mac), format_ip(e.ip), format_ip(e.host)}; }

RuleSpec to_spec(const RuleKey& r) {
    RuleSpec s;
    s.port = r.port;
    s.direction = direction_name(r.dir);
    s.protocol = proto_name(r.proto);
    s.cidr = format_cidr(r.cidr);
    if (r.port_min != 0 || r.port_max != 65535) {
        s.port_min = r.port_min;
        s.port_max = r.port_max;
    }
    return s;
}

VpcSpec to_spec(const Vpc& v) {
    VpcSpec s;
    s.name = v.name;
    s.vni = v.vni;
    s.encap = encap_name(v.encap);
    for (const auto& [c, sub] : v.subnets) s.subnets.push_back(to_spec(sub));
    for (const auto& [p, b] : v.bindings) s.bindings.push_back(to_spec(b));
    std::vector<const Endpoint*> eps;
    eps.reserve(v.endpoints.size());
    for (const auto& [m, e] : v.endpoints) eps.push_back(&e);
    std::sort(eps.begin(), eps.end(), [](auto* a, auto* b) { return a->ip < b->ip; });
    for (const Endpoint* e : eps) s.endpoints.push_back(to_spec(*e));
    for (const auto& [k, r] : v.rules) s.rules.push_back(to_spec(k));
    return s;
}

}  // namespace vswitch::vpc
