// The VPC model: what a cloud controller (or switchctl) declares about the VPC overlay
// on this host, and its validation.
//
//  - Vpc: a tenant network identified by a name and a VNI (1..2^24-1, unique across
//    VPCs on this switch), carried over VXLAN (VNI) or GRE (key = VNI).
//  - Subnet: an IPv4 CIDR of the VPC with a gateway address inside it, and the DNS
//    servers its VMs are told by DHCP. Subnets of one VPC never overlap; different VPCs
//    may use the same addresses.
//  - Binding: a local VM port (a switch port name) bound to one VPC, with its MAC and
//    IPs (each inside one of the VPC's subnets). A port is bound to at most one VPC.
//  - Endpoint: a remote VM: MAC, IP, and the underlay IP of the host it runs on.
//  - SecurityRule: per bound port, direction (ingress/egress), protocol
//    (tcp/udp/icmp/any), a CIDR (the peer: source for ingress, destination for egress)
//    and a destination port range (tcp/udp only).
//
// Changes arrive as Ops in string form (as the API carries them) and are parsed and
// validated here, against the current Model, before anything changes. Every error is
// a VpcError naming the field ("endpoint.mac") with a message "mac: problem".
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vswitch::vpc {

using Mac = uint64_t;   // 48 bits: the first byte on the wire is bits 47..40

// IPv4 addresses are host order throughout the model.
struct Cidr {
    uint32_t addr = 0;   // network address (host bits clear)
    uint8_t len = 0;

    uint32_t mask() const { return len ? ~uint32_t{0} << (32 - len) : 0; }
    bool contains(uint32_t ip) const { return (ip & mask()) == addr; }
    bool overlaps(const Cidr& o) const {
        uint8_t l = len < o.len ? len : o.len;
        uint32_t m = l ? ~uint32_t{0} << (32 - l) : 0;
        return (addr & m) == (o.addr & m);
    }
    uint32_t broadcast() const { return addr | ~mask(); }
    auto operator<=>(const Cidr&) const = default;
};

bool parse_mac(std::string_view s, Mac& out);
std::string format_mac(Mac m);
bool parse_ip(std::string_view s, uint32_t& out);
std::string format_ip(uint32_t ip);
// The same text into out (at least 17 and 15 bytes, no terminating NUL); returns the
// end. For the state file's million endpoints, where snprintf was a sixth of the save.
char* format_mac_to(Mac m, char* out);
char* format_ip_to(uint32_t ip, char* out);
// "a.b.c.d/N" (a bare address is /32). host_bits: the address had bits outside the
// prefix (out is then the masked network).
bool parse_cidr(std::string_view s, Cidr& out, bool* host_bits = nullptr);
std::string format_cidr(const Cidr& c);
// 1-32 characters of [A-Za-z0-9_.-], not starting with a digit (the switch's port
// name rule; VPC names follow it too).
bool valid_name(std::string_view s);

enum class Encap : uint8_t { Vxlan, Gre };
enum class Direction : uint8_t { Ingress, Egress };
enum class Proto : uint8_t { Any, Tcp, Udp, Icmp };
const char* encap_name(Encap e);
const char* direction_name(Direction d);
const char* proto_name(Proto p);

inline constexpr uint32_t kMaxVni = (1u << 24) - 1;
inline constexpr uint16_t kMaxVpcs = 65535;

// The per-VPC virtual router's MAC (answers ARP for every subnet gateway, source MAC
// of routed packets): 0a:56:00 followed by the VNI. Locally administered, unicast.
inline Mac router_mac(uint32_t vni) { return (Mac{0x0a5600} << 24) | vni; }

struct Subnet {
    Cidr cidr;
    uint32_t gateway = 0;
    std::vector<uint32_t> dns;   // DNS servers for DHCP (option 6), at most kMaxDns
    uint32_t id = 0;
};
inline constexpr size_t kMaxDns = 4;

struct Binding {
    std::string port;
    Mac mac = 0;
    std::vector<uint32_t> ips;
    uint32_t id = 0;          // also the value of reg6/reg7 in the pipeline
    uint32_t n_egress = 0;    // egress rules on this port (0 = egress allowed by default)
    uint32_t n_rules = 0;     // security rules on this port
};

struct Endpoint {
    Mac mac = 0;
    uint32_t ip = 0;
    uint32_t host = 0;        // underlay IP of the remote host
    uint32_t id = 0;
};

struct RuleKey {
    std::string port;
    Direction dir = Direction::Ingress;
    Proto proto = Proto::Any;
    Cidr cidr;                // peer: source (ingress) / destination (egress)
    uint16_t port_min = 0;    // destination port range, tcp/udp; 0-65535 = any
    uint16_t port_max = 65535;
    auto operator<=>(const RuleKey&) const = default;
};

struct SecurityRule {
    RuleKey key;
    uint32_t id = 0;
};

// A remote host in use by a VPC's endpoints: its tunnel classification rule exists
// while refs > 0.
struct HostRef {
    uint32_t id = 0;
    uint32_t refs = 0;
};

struct Vpc {
    std::string name;
    uint32_t vni = 0;
    Encap encap = Encap::Vxlan;
    uint16_t index = 0;       // 1..65535: the VPC's metadata value and cookie field
    uint64_t generation = 0;

    std::map<Cidr, Subnet> subnets;
    std::map<std::string, Binding> bindings;          // by port
    std::unordered_map<Mac, Endpoint> endpoints;      // remote, by MAC
    std::unordered_map<uint32_t, Mac> ip_owner;       // every IP in use -> its MAC
    std::unordered_map<Mac, std::string> binding_mac; // MAC of a binding -> port
    std::unordered_map<uint32_t, HostRef> hosts;      // remote host -> its rule
    std::map<RuleKey, SecurityRule> rules;

    Mac rmac() const { return router_mac(vni); }
    const Subnet* subnet_of(uint32_t ip) const;
};

struct Model {
    std::map<std::string, std::unique_ptr<Vpc>, std::less<>> vpcs;
    std::unordered_map<uint32_t, std::string> vni_owner;
    std::unordered_map<std::string, std::string> port_owner;   // bound port -> VPC
    // Generation of each deleted VPC, so a replayed old batch cannot resurrect it.
    std::map<std::string, uint64_t, std::less<>> tombstones;

    Vpc* find(std::string_view name) const {
        auto it = vpcs.find(name);
        return it == vpcs.end() ? nullptr : it->second.get();
    }
    // The generation a change for VPC `name` is compared with: the VPC's, else its
    // tombstone's, else 0.
    uint64_t generation_of(std::string_view name) const;
};

// ---------------------------------------------------------------- changes, as given

struct SubnetSpec {
    std::string cidr;
    std::string gateway;   // "" = the first address after the network address
    std::vector<std::string> dns;
};
struct BindingSpec {
    std::string port;
    std::string mac;
    std::vector<std::string> ips;
};
struct EndpointSpec {
    std::string mac;
    std::string ip;
    std::string host;
};
struct RuleSpec {
    std::string port;
    std::string direction;   // ingress | egress
    std::string protocol;    // tcp | udp | icmp | any
    std::string cidr;        // "" = 0.0.0.0/0
    uint32_t port_min = 0;   // tcp/udp; both 0 = every port; port_max 0 = port_min
    uint32_t port_max = 0;
};
struct VpcSpec {
    std::string name;
    uint32_t vni = 0;
    std::string encap;       // "" = vxlan
    std::vector<SubnetSpec> subnets;
    std::vector<BindingSpec> bindings;
    std::vector<EndpointSpec> endpoints;
    std::vector<RuleSpec> rules;
};

enum class OpKind : uint8_t {
    CreateVpc, DeleteVpc, AddSubnet, DelSubnet, Bind, Unbind, AddEndpoint, DelEndpoint,
    AddRule, DelRule,
};
// "create_vpc", "add_endpoint", ...: the op's name in the API (VpcOp's oneof).
const char* op_name(OpKind k);

// One change. Which fields count depends on kind: CreateVpc vpc/vni/encap; DeleteVpc
// vpc; Add/DelSubnet subnet (del: cidr); Bind binding; Unbind binding.port;
// Add/DelEndpoint endpoint (del: mac); Add/DelRule rule.
struct Op {
    OpKind kind = OpKind::CreateVpc;
    std::string vpc;
    uint32_t vni = 0;
    std::string encap;
    SubnetSpec subnet;
    BindingSpec binding;
    EndpointSpec endpoint;
    RuleSpec rule;
    // Where the op came from, for error fields (full sync: "vpc.endpoints[3]"); "" =
    // the op itself.
    std::string origin;
};

struct VpcError {
    std::string field;     // relative to the op: "vni", "endpoint.mac", "binding.ips[1]"
    std::string message;   // "mac: '01:00:5e:00:00:01' is a multicast address"
    explicit operator bool() const { return !message.empty(); }
};

// ---------------------------------------------------------------- validation
// Each parses its spec and checks it against the model (nothing changes). The object
// ids are left 0.

// Fields: create_vpc "vpc", "vni", "encap"; the others "vpc" and their object's
// ("subnet.cidr", "binding.ips[1]", "endpoint.host", "rule.port_min", ...).
VpcError check_create(const Model& m, const Op& op, uint32_t& vni, Encap& encap);
VpcError check_vpc(const Model& m, const Op& op, Vpc*& vpc);   // "vpc: no VPC named 'x'"
VpcError check_add_subnet(const Vpc& v, const SubnetSpec& s, Subnet& out);
VpcError check_del_subnet(const Vpc& v, const SubnetSpec& s, Cidr& out);
VpcError check_bind(const Model& m, const Vpc& v, const BindingSpec& s, Binding& out);
VpcError check_unbind(const Vpc& v, const BindingSpec& s);
VpcError check_add_endpoint(const Vpc& v, const EndpointSpec& s, Endpoint& out);
VpcError check_del_endpoint(const Vpc& v, const EndpointSpec& s, Mac& out);
// The rule's canonical key, without looking at any VPC.
VpcError parse_rule(const RuleSpec& s, RuleKey& out);
// exists: the rule must (del) or must not (add) exist.
VpcError check_rule(const Vpc& v, const RuleSpec& s, bool exists, RuleKey& out);

// Inverse of the parsers: the spec form of the model's objects (persistence, show,
// full-sync diffs). Specs of equal objects compare equal.
SubnetSpec to_spec(const Subnet& s);
BindingSpec to_spec(const Binding& b);
EndpointSpec to_spec(const Endpoint& e);
RuleSpec to_spec(const RuleKey& r);
VpcSpec to_spec(const Vpc& v);

}  // namespace vswitch::vpc
