#include "ofproto/translate.h"

#include <arpa/inet.h>

#include "ofproto/field_syntax.h"
#include "ofproto/normal.h"
#include "ofproto/table_index.h"
#include "ofproto/value_syntax.h"

namespace vswitch::ofp {
namespace {

// Packet fields that actions can change, in commit order (VLAN first: the datapath
// pushes and pops tags before rewriting addresses, which does not matter for the
// result, but keeps the emitted lists in one stable order).
constexpr Field kCommitOrder[] = {
    Field::VlanTci, Field::DlSrc, Field::DlDst, Field::NwSrc,
    Field::NwDst,   Field::NwTos, Field::TpSrc, Field::TpDst,
};

bool field_equal(const FlowKey& a, const FlowKey& b, Field f) {
    return std::memcmp(field_bytes(a, f), field_bytes(b, f), field_info(f).size) == 0;
}

void copy_field(FlowKey& dst, const FlowKey& src, Field f) {
    std::memcpy(field_bytes(dst, f), field_bytes(src, f), field_info(f).size);
}

// The mutable part of the walk that a group bucket runs on a copy of.
struct State {
    FlowKey w;           // working key
    PipelineKey pk;
    FieldSet w_const;    // fields of w not taken from the packet
    int w_dec;           // dec_ttl's applied to w
};

class Xlate {
public:
    Xlate(const XlateEnv& env, const FlowKey& key, Translation& out, XlateObserver* obs)
        : env_(env), tables_(env.tables), out_(out), obs_(obs), pkt_(key) {
        st_.w = key;
        c_ = key;
        if (env.initial) st_.pk = *env.initial;
        else st_.pk.clear();
        st_.w_const = 0;
        st_.w_dec = 0;
        free_.clear();
    }

    void run() {
        if (!underlay_input()) do_table(0);
        if (aborted_) {
            out_.actions.clear();
        } else if (failed_ != DropReason::Count && !sends_anything()) {
            // Only a tunnel output that could not be built: count the drop under its
            // reason (modifications committed for it may precede, they change nothing).
            out_.actions.push_back(DpAction::drop(static_cast<uint8_t>(failed_)));
        }
    }

private:
    // ---------------------------------------------------------------- tables

    void do_table(uint8_t id) {
        for (;;) {
            current_table_ = id;
            out_.tables |= uint64_t{1} << (id & 63);
            for (size_t i = 0; i < FlowKey::kWords; i++)
                if (st_.w.word(i) != pkt_.word(i)) out_.written |= 1u << i;
            if (obs_) obs_->table_lookup(id, depth_);
            if (env_.stats) out_.rules.push_back(env_.stats->lookups[id]);
            const RulePtr* rule = lookup(id);
            if (!rule) return;
            if (env_.stats) out_.rules.push_back(env_.stats->matches[id]);
            out_.rules.push_back(*rule);
            std::optional<uint8_t> next = execute((*rule)->actions());
            if (!next || stopped_ || aborted_) return;
            id = *next;
        }
    }

    // Highest-priority rule of table `id` matching the working key, or null; accounts
    // the mask of everything it examined. The table's index does it (table_index.h);
    // with an observer, the rule-by-rule walk below does, telling it every rule.
    const RulePtr* lookup(uint8_t id) {
        const RuleSeq& rules = tables_.table(id);
        const TableIndex* index = tables_.index(id);
        if (obs_ || (!index && !rules.empty())) return lookup_walk(id);
        if (!index) return nullptr;
        if (free_for_ != st_.w_const) {
            free_ = field_set_bits(st_.w_const);
            free_for_ = st_.w_const;
        }
        const uint64_t ord = index->lookup(st_.w, st_.pk, free_, out_.mask);
        return ord == TableIndex::kNoMatch ? nullptr : rules.find(ord);
    }

    // The reference lookup: rules in order, the mask accounted field by field from the
    // Match objects. TableIndex computes the same, faster.
    const RulePtr* lookup_walk(uint8_t id) {
        std::vector<const RulePtr*> rules_in_order;   // (traces and tests only)
        rules_in_order.reserve(tables_.table(id).size());
        tables_.table(id).for_each([&](const RulePtr& r, uint64_t) { rules_in_order.push_back(&r); });
        struct View {
            const std::vector<const RulePtr*>& v;
            size_t size() const { return v.size(); }
            const RulePtr& operator[](size_t i) const { return *v[i]; }
        } rules{rules_in_order};
        size_t hit = 0;
        while (hit < rules.size() && !rules[hit]->match().matches(st_.w, st_.pk)) hit++;
        // The winner first, so failing rules can reuse the fields it pins.
        if (hit < rules.size()) read_match(rules[hit]->match());
        for (size_t i = 0; i < hit; i++) account_failure(rules[i]->match());
        if (obs_) {
            for (size_t i = 0; i < hit; i++) obs_->rule_examined(id, *rules[i], false);
            if (hit < rules.size()) obs_->rule_examined(id, *rules[hit], true);
            else obs_->table_miss(id);
        }
        return hit < rules.size() ? &rules[hit] : nullptr;
    }

    bool is_const(Field f) const { return st_.w_const & field_bit(f); }

    // ORs the bits of `bits` in field f into the mask, unless actions wrote f.
    void read_bits(Field f, const FlowKey& bits) {
        if (is_const(f)) return;
        const uint8_t* src = field_bytes(bits, f);
        uint8_t* dst = field_bytes(out_.mask, f);
        for (size_t i = 0; i < field_info(f).size; i++) dst[i] |= src[i];
    }
    void read_field(Field f) {
        if (is_const(f)) return;
        std::memset(field_bytes(out_.mask, f), 0xff, field_info(f).size);
    }

    void read_match(const Match& m) {
        for (size_t i = 0; i < kFieldCount; i++) {
            Field f = static_cast<Field>(i);
            if (m.has(f)) read_bits(f, m.mask());
        }
    }

    void account_failure(const Match& m) {
        if (!m.pipeline_matches(st_.pk)) return;
        const Field* chosen = nullptr;
        for (const Field& f : kMismatchOrder) {
            if (!m.has(f) || m.field_matches(f, st_.w)) continue;
            if (covered(m, f)) return;
            if (!chosen) chosen = &f;
        }
        // A failed match always has a mismatching field; be safe rather than wrong.
        if (!chosen) {
            read_match(m);
            return;
        }
        read_bits(*chosen, m.mask());
        for (Field p : kMismatchOrder)
            if (field_info(*chosen).prereqs & field_bit(p)) read_bits(p, m.mask());
    }

    // Are f's bits in m, and those of f's prerequisites, already in the mask (or
    // written by actions, so free)?
    bool covered(const Match& m, Field f) const {
        for (Field g : kMismatchOrder) {
            if (g != f && !(field_info(f).prereqs & field_bit(g))) continue;
            if (is_const(g)) continue;
            const uint8_t* need = field_bytes(m.mask(), g);
            const uint8_t* have = field_bytes(out_.mask, g);
            for (size_t i = 0; i < field_info(g).size; i++)
                if (need[i] & ~have[i]) return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- state

    // Reads dl_type (and nw_proto when p needs it) and says whether the working key
    // satisfies p.
    bool check(Prereq p) {
        if (p == Prereq::None) return true;
        read_field(Field::DlType);
        bool needs_proto = p == Prereq::L4 || p == Prereq::Tcp || p == Prereq::Udp ||
                           p == Prereq::Sctp || p == Prereq::Icmp || p == Prereq::Icmp6;
        if (needs_proto) {
            // nw_proto only means something for IP; reading it for others is harmless.
            read_field(Field::NwProto);
        }
        return key_satisfies(p, st_.w);
    }

    // Reads the CFI bit: is the working packet tagged?
    bool tagged() {
        if (!is_const(Field::VlanTci)) out_.mask.vlan_tci |= htons(kVlanCfi);
        return st_.w.vlan_tci & htons(kVlanCfi);
    }

    // Writes `mask` bits of field f. A packet field not yet written is read first where
    // the write does not cover it (its other bits stay the packet's).
    void write(Mf f, u128 value, u128 mask) {
        const MfInfo& info = mf_info(f);
        if (info.packet && !is_const(info.field)) {
            FlowKey written;
            written.clear();
            mf_unwildcard(f, mask, written);
            const uint8_t* wb = field_bytes(written, info.field);
            uint8_t* mb = field_bytes(out_.mask, info.field);
            for (size_t i = 0; i < field_info(info.field).size; i++) mb[i] |= static_cast<uint8_t>(~wb[i]);
        }
        mf_set(f, value, mask, st_.w, st_.pk);
        if (info.packet) st_.w_const |= field_bit(info.field);
    }

    u128 read(const Subfield& s) {
        const MfInfo& info = mf_info(s.field);
        if (info.packet && !is_const(info.field)) mf_unwildcard(s.field, s.mask(), out_.mask);
        return (mf_get(s.field, st_.w, st_.pk) >> s.ofs) & mf_all_bits(s.n_bits);
    }

    void set_tci(uint16_t host_tci) {
        st_.w.vlan_tci = htons(host_tci);
        st_.w_const |= field_bit(Field::VlanTci);
    }

    // Emits what turns the committed packet into the working one.
    void commit() {
        for (Field f : kCommitOrder) {
            bool wc = st_.w_const & field_bit(f), cc = c_const_ & field_bit(f);
            if (!wc && !cc) continue;   // both are the packet's own value
            if (wc && cc && field_equal(st_.w, c_, f)) continue;
            if (!wc) read_field(f);     // restoring the packet's value: it is now an input
            if (f == Field::VlanTci) {
                bool c_tagged = c_.vlan_tci & htons(kVlanCfi);
                if (!cc) out_.mask.vlan_tci |= htons(kVlanCfi);
                if (c_tagged) emit(DpActionType::PopVlan);
                if (st_.w.vlan_tci & htons(kVlanCfi)) {
                    DpAction a{};
                    a.type = DpActionType::PushVlan;
                    a.arg.u16 = ntohs(st_.w.vlan_tci);
                    out_.actions.push_back(a);
                }
            } else {
                emit_set(f);
            }
            copy_field(c_, st_.w, f);
            if (wc) c_const_ |= field_bit(f);
            else c_const_ &= ~field_bit(f);
        }
        for (; c_dec_ < st_.w_dec; c_dec_++) emit(DpActionType::DecTtl);
    }

    void emit(DpActionType t) {
        DpAction a{};
        a.type = t;
        out_.actions.push_back(a);
    }

    void emit_set(Field f) {
        DpAction a{};
        switch (f) {
        case Field::DlSrc:
            a.type = DpActionType::SetEthSrc;
            std::memcpy(a.arg.mac, st_.w.dl_src, 6);
            break;
        case Field::DlDst:
            a.type = DpActionType::SetEthDst;
            std::memcpy(a.arg.mac, st_.w.dl_dst, 6);
            break;
        case Field::NwSrc:
            a.type = DpActionType::SetIpv4Src;
            a.arg.u32 = st_.w.nw_src;
            break;
        case Field::NwDst:
            a.type = DpActionType::SetIpv4Dst;
            a.arg.u32 = st_.w.nw_dst;
            break;
        case Field::NwTos:
            a.type = DpActionType::SetIpTos;
            a.arg.u32 = st_.w.nw_tos;
            break;
        case Field::TpSrc:
            a.type = DpActionType::SetTpSrc;
            a.arg.u16 = st_.w.tp_src;
            break;
        case Field::TpDst:
            a.type = DpActionType::SetTpDst;
            a.arg.u16 = st_.w.tp_dst;
            break;
        default:
            return;
        }
        out_.actions.push_back(a);
    }

    uint32_t in_port() {
        read_field(Field::InPort);
        return st_.w.in_port;
    }

    void output(uint32_t port) {
        commit();
        if (port == in_port()) return;
        if (const TunnelPortConfig* t = tables_.overlay().tunnel(port)) {
            tunnel_output(port, *t);
            return;
        }
        out_.actions.push_back(DpAction::output(port));
    }

    // ---------------------------------------------------------------- overlay

    bool sends_anything() const {
        for (const DpAction& a : out_.actions)
            if (a.type == DpActionType::Output || a.type == DpActionType::TunnelPop ||
                a.type == DpActionType::Drop)
                return true;
        return false;
    }

    // A packet field's value as the pipeline now sees it; read into the mask unless an
    // action wrote it.
    template <class T>
    T tun_field(Field f, T FlowKey::*member) {
        if (!is_const(f)) read_field(f);
        return st_.w.*member;
    }

    void tunnel_fail(DropReason r, const std::string& why) {
        if (failed_ == DropReason::Count) failed_ = r;
        say("tunnel: " + why + ": not sent (" + drop_reason_name(r) + ")");
    }

    void tunnel_output(uint32_t port, const TunnelPortConfig& t) {
        const OverlayConfig& ov = tables_.overlay();
        const Underlay& u = ov.underlay;
        if (u.port == 0 || u.local_ip == 0) return tunnel_fail(DropReason::TunnelNoRoute, "no underlay (set-uplink)");
        const uint32_t dst = t.remote_ip ? t.remote_ip : tun_field(Field::TunDst, &FlowKey::tun_dst);
        const uint64_t key = t.key_flow ? tun_field(Field::TunId, &FlowKey::tun_id) : t.key;
        if (dst == 0) return tunnel_fail(DropReason::TunnelNoRoute, "no remote IP (tun_dst is 0)");
        encap::TunnelSpec spec;
        spec.type = t.type;
        std::memcpy(spec.src_mac, u.mac, 6);
        const uint32_t nh = ov.next_hop(dst);
        if (!env_.neighbors || !env_.neighbors->lookup(nh, spec.dst_mac)) {
            if (env_.neighbors && env_.may_resolve) env_.neighbors->want(nh);
            return tunnel_fail(DropReason::TunnelNoNeighbor, "next hop " + ipv4_text(nh) + " unresolved");
        }
        spec.src_ip = u.local_ip;
        spec.dst_ip = dst;
        spec.vni = static_cast<uint32_t>(key);
        spec.dst_port = t.dst_port;
        spec.ttl = t.ttl;
        spec.tos = t.tos;
        spec.df = t.df;
        encap::TunnelHeader h;
        std::string err;
        if (key > (t.type == encap::TunnelType::Vxlan ? 0xffffffull : 0xffffffffull) ||
            !encap::build_header(spec, h, err))
            return tunnel_fail(DropReason::TunnelNoRoute,
                               err.empty() ? "key " + std::to_string(key) + " too big" : err);
        h.mtu = u.mtu;
        out_.actions.push_tunnel(h);
        out_.actions.push_back(DpAction::output(u.port));
        say("tunnel: encapsulated (key " + std::to_string(key) + ") to " + ipv4_text(dst) +
            " via port " + std::to_string(u.port));
    }

    static std::string ipv4_text(uint32_t be) { return format_ipv4(ntohl(be)); }

    // The VTEP's own traffic on the underlay port; true = handled (no table lookup).
    bool underlay_input() {
        const OverlayConfig& ov = tables_.overlay();
        const Underlay& u = ov.underlay;
        if (u.port == 0 || u.local_ip == 0 || in_port() != u.port) return false;
        read_field(Field::DlType);
        if (st_.w.dl_type == htons(0x0806)) {
            read_field(Field::NwDst);   // ARP target
            if (st_.w.nw_dst != u.local_ip) return false;
            read_field(Field::NwProto);   // opcode
            const uint8_t op = st_.w.nw_proto;
            if (op != 1 && op != 2) return false;
            read_field(Field::NwSrc);
            read_field(Field::DlSrc);
            if (env_.neighbors && env_.may_learn) env_.neighbors->learn(st_.w.nw_src, st_.w.dl_src);
            if (op == 1) {
                // Cached, one megaflow per asker; its packets confirm the asker when the
                // revalidator pushes their counts (neighbors.h).
                if (env_.neighbors)
                    out_.rules.push_back(
                        std::make_shared<NeighborConfirm>(*env_.neighbors, st_.w.nw_src, st_.w.dl_src));
                out_.actions.push_back(DpAction::arp_reply(u.mac));
                out_.actions.push_back(DpAction::output(u.port));
                say("underlay: ARP request for the local IP answered (cached: each confirms the asker)");
            } else {
                out_.cache = false;   // learned at once: an answer to a probe (neighbors.h)
                out_.actions.push_back(DpAction::drop(static_cast<uint8_t>(DropReason::ArpConsumed)));
                say("underlay: ARP reply learned");
            }
            return true;
        }
        if (st_.w.dl_type != htons(0x0800)) return false;
        read_field(Field::NwDst);
        if (st_.w.nw_dst != u.local_ip) return false;
        read_field(Field::NwProto);
        const uint8_t proto = st_.w.nw_proto;
        if (proto == 17) read_field(Field::TpDst);
        for (const auto& [port, t] : ov.tunnels) {
            const bool vx = t.type == encap::TunnelType::Vxlan;
            if (vx ? proto == 17 && st_.w.tp_dst == htons(t.dst_port) : proto == 47) {
                out_.actions.push_back(DpAction::tunnel_pop(port, t.type, t.dst_port));
                say("underlay: tunnel packet for us, decapsulated as from port " + std::to_string(port));
                return true;
            }
        }
        return false;
    }

    void flood() {
        commit();
        uint32_t in = in_port();
        for (uint32_t p : tables_.ports())
            if (p != in) out_.actions.push_back(DpAction::output(p));
    }

    void say(const std::string& s) {
        if (obs_) obs_->note(s, depth_);
    }

    void abort(const std::string& why) {
        aborted_ = true;
        say(why + ": the packet is dropped");
    }

    // ---------------------------------------------------------------- actions

    // Runs one action list; returns the goto_table target, if any.
    std::optional<uint8_t> execute(const OfActionList& acts) {
        std::optional<uint8_t> next;
        for (const OfAction& act : acts) {
            if (stopped_ || aborted_) break;
            if (obs_) obs_->action(act, depth_);
            std::visit(Overloaded{
                           [&](const OutputAction& o) { output(o.port); },
                           [&](const InPortAction&) {
                               commit();
                               out_.actions.push_back(DpAction::output(in_port()));
                           },
                           [&](const FloodAction&) { flood(); },
                           [&](const NormalAction&) { normal(); },
                           [&](const ResubmitAction& r) { resubmit(r); },
                           [&](const GotoTableAction& g) { next = g.table; },
                           [&](const SetFieldAction& s) { set_field(s); },
                           [&](const LoadAction& l) {
                               if (!check(mf_info(l.dst.field).prereq)) return;
                               write(l.dst.field, l.value << l.dst.ofs, l.dst.mask());
                           },
                           [&](const MoveAction& m) {
                               if (!check(mf_info(m.dst.field).prereq)) return;
                               u128 v = read(m.src);
                               write(m.dst.field, v << m.dst.ofs, m.dst.mask());
                           },
                           [&](const ModVlanAction& v) { mod_vlan(v); },
                           [&](const PushVlanAction&) {
                               if (tagged()) {
                                   abort("push_vlan on a tagged packet (double tagging is not supported)");
                                   return;
                               }
                               set_tci(kVlanCfi);
                           },
                           [&](const PopVlanAction&) {
                               if (tagged()) set_tci(0);
                           },
                           [&](const DecTtlAction&) { dec_ttl(); },
                           [&](const WriteMetadataAction& w) {
                               st_.pk.metadata = (st_.pk.metadata & ~w.mask) | (w.value & w.mask);
                           },
                           [&](const NoteAction&) {},
                           [&](const GroupAction& g) { group(g.id); },
                           [&](const MeterAction& m) {
                               DpAction a{};
                               a.type = DpActionType::Meter;
                               a.port = m.id;
                               a.arg.u32 = m.id;
                               out_.actions.push_back(a);
                           },
                           [&](const ArpReplyAction& a) { arp_reply(a); },
                           [&](const IcmpEchoReplyAction&) { icmp_echo_reply(); },
                           [&](const DhcpReplyAction& a) { dhcp_reply(a); },
                           [&](const IcmpErrorAction& a) { icmp_error(a); },
                           [&](const NamedDropAction& d) {
                               out_.actions.push_back(DpAction::drop(d.reason));
                               stopped_ = true;
                           },
                       },
                       act);
        }
        return next;
    }

    void set_field(const SetFieldAction& s) {
        Prereq p = mf_info(s.field).prereq;
        if (s.spelling == SetSpelling::ModTpSrc || s.spelling == SetSpelling::ModTpDst) p = Prereq::L4;
        if (!check(p)) return;
        if (s.field == Mf::VlanVid || s.field == Mf::VlanPcp) {
            // OpenFlow 1.2+ set_field on the tag: nothing to set on an untagged packet.
            if (!tagged()) return;
        }
        write(s.field, s.value, s.mask);
    }

    void mod_vlan(const ModVlanAction& v) {
        if (!tagged()) set_tci(kVlanCfi);
        if (v.pcp) write(Mf::VlanPcp, v.value, 0x7);
        else write(Mf::VlanVid, v.value, 0xfff);
    }

    // Only an ARP request can be answered; what the answer says comes from the packet's
    // target address, which the megaflow therefore matches exactly.
    void arp_reply(const ArpReplyAction& a) {
        stopped_ = true;
        read_field(Field::DlType);
        if (st_.w.dl_type != htons(0x0806)) return say("arp_reply: not ARP, dropped");
        read_field(Field::NwProto);
        if (st_.w.nw_proto != 1) return say("arp_reply: not an ARP request, dropped");
        read_field(Field::NwDst);
        reply_to_sender(DpAction::arp_reply(a.mac));
    }

    // Only an ICMPv4 echo request is answered; the datapath checks the rest per packet
    // (fragments, broadcast destinations, truncated headers: dropped, action_failed).
    void icmp_echo_reply() {
        stopped_ = true;
        read_field(Field::DlType);
        if (st_.w.dl_type != htons(0x0800)) return say("icmp_echo_reply: not IPv4, dropped");
        read_field(Field::NwProto);
        if (st_.w.nw_proto != 1) return say("icmp_echo_reply: not ICMP, dropped");
        read_field(Field::TpSrc);   // ICMP type
        read_field(Field::TpDst);   // and code
        if (st_.w.tp_src != htons(8) || st_.w.tp_dst != 0) return say("icmp_echo_reply: not an echo request, dropped");
        reply_to_sender(DpAction::icmp_echo_reply());
    }

    // Only a DHCP client's datagram (UDP 68 -> 67) is answered; the message itself is
    // the datapath's to check, per packet (encap::dhcp_make_reply).
    void dhcp_reply(const DhcpReplyAction& a) {
        stopped_ = true;
        read_field(Field::DlType);
        if (st_.w.dl_type != htons(0x0800)) return say("dhcp_reply: not IPv4, dropped");
        read_field(Field::NwProto);
        if (st_.w.nw_proto != 17) return say("dhcp_reply: not UDP, dropped");
        read_field(Field::TpSrc);   // a later fragment has none (flow_key.h)
        read_field(Field::TpDst);
        if (st_.w.tp_src != htons(68) || st_.w.tp_dst != htons(67))
            return say("dhcp_reply: not a DHCP request (UDP 68 -> 67), dropped");
        reply_to_sender(out_.actions.dhcp_reply(a.cfg));
    }

    // Any IPv4 packet may get an error; which ones must not (errors, fragments, group
    // addresses) the datapath checks per packet (encap::icmp_make_error).
    void icmp_error(const IcmpErrorAction& a) {
        stopped_ = true;
        read_field(Field::DlType);
        if (st_.w.dl_type != htons(0x0800)) return say("icmp_error: not IPv4, dropped");
        reply_to_sender(DpAction::icmp_error(a.type, a.code, a.src));
    }

    // An answer made of the packet (arp_reply, icmp_echo_reply, dhcp_reply, icmp_error)
    // goes back where the packet came from.
    void reply_to_sender(const DpAction& make_reply) {
        commit();
        out_.actions.push_back(make_reply);
        const uint32_t in = in_port();
        if (const TunnelPortConfig* t = tables_.overlay().tunnel(in)) {
            // Asked through a tunnel: the answer goes back to the host that asked.
            read_field(Field::TunSrc);
            read_field(Field::TunId);
            st_.w.tun_dst = st_.w.tun_src;
            st_.w_const |= field_bit(Field::TunDst);
            const size_t n = out_.actions.size();
            tunnel_output(in, *t);
            // Not sendable (next hop unresolved, ...): no reply without its output, so
            // that the packet is counted under the tunnel's reason, not "flow_drop".
            if (out_.actions.size() == n) out_.actions.pop_back();
            return;
        }
        out_.actions.push_back(DpAction::output(in));
    }

    void dec_ttl() {
        if (!check(Prereq::IpAny)) return;
        read_field(Field::NwTtl);
        if (st_.w.nw_ttl <= 1) {
            say("dec_ttl: TTL " + std::to_string(st_.w.nw_ttl) + " expires: the packet is dropped");
            stopped_ = true;
            return;
        }
        st_.w.nw_ttl--;
        st_.w_dec++;
    }

    void resubmit(const ResubmitAction& r) {
        if (depth_ >= kMaxResubmitDepth) {
            abort("resubmit depth limit (" + std::to_string(kMaxResubmitDepth) + ") exceeded, a loop");
            return;
        }
        if (++n_resubmits_ > kMaxResubmits) {
            abort("more than " + std::to_string(kMaxResubmits) + " resubmits");
            return;
        }
        uint8_t table = r.table.value_or(current_table_);
        uint32_t saved_port = st_.w.in_port;
        bool saved_const = is_const(Field::InPort);
        if (r.port) {
            st_.w.in_port = *r.port;
            st_.w_const |= field_bit(Field::InPort);
        }
        uint8_t saved_table = current_table_;
        depth_++;
        current_table_ = table;
        do_table(table);
        current_table_ = saved_table;
        depth_--;
        if (r.port) {
            st_.w.in_port = saved_port;
            if (!saved_const) st_.w_const &= ~field_bit(Field::InPort);
        }
    }

    void group(uint32_t id) {
        const GroupSpec* g = tables_.group(id);
        if (!g) {
            say("group " + std::to_string(id) + " does not exist");
            return;
        }
        if (depth_ >= kMaxResubmitDepth) {
            abort("group nesting limit (" + std::to_string(kMaxResubmitDepth) + ") exceeded, a loop");
            return;
        }
        auto run_bucket = [&](size_t i) {
            State saved = st_;
            bool saved_stop = stopped_;
            depth_++;
            say("group " + std::to_string(id) + ": bucket " + std::to_string(i));
            execute(g->buckets[i].actions);
            depth_--;
            st_ = saved;
            stopped_ = saved_stop;
        };
        switch (g->type) {
        case GroupType::All:
            for (size_t i = 0; i < g->buckets.size() && !aborted_; i++) run_bucket(i);
            break;
        case GroupType::Indirect:
            if (!g->buckets.empty()) run_bucket(0);
            break;
        case GroupType::Select: {
            for (Field f : {Field::DlSrc, Field::DlDst, Field::DlType, Field::NwSrc, Field::NwDst,
                            Field::NwProto, Field::TpSrc, Field::TpDst})
                read_field(f);
            uint64_t total = 0;
            for (const Bucket& b : g->buckets) total += b.weight;
            if (total == 0) {
                say("group " + std::to_string(id) + ": no live bucket");
                return;
            }
            uint64_t pick = select_hash(st_.w) % total;
            size_t i = 0;
            for (; i < g->buckets.size(); i++) {
                if (pick < g->buckets[i].weight) break;
                pick -= g->buckets[i].weight;
            }
            run_bucket(i);
            break;
        }
        }
    }

    void normal() {
        commit();
        if (!env_.mac_learning) {
            say("NORMAL: no MAC learning table, dropped");
            return;
        }
        NormalVerdict v = xlate_normal(*env_.mac_learning, tables_.ports(), st_.w, out_, env_.may_learn);
        say(std::string("NORMAL: ") + to_string(v));
    }

    const XlateEnv& env_;
    const FlowTables& tables_;
    Translation& out_;
    XlateObserver* obs_;
    const FlowKey& pkt_;     // the packet as it came (Translation::written compares with it)
    State st_;
    FlowKey free_;           // field_set_bits(free_for_): bits lookups read for free
    FieldSet free_for_ = 0;
    FlowKey c_;              // committed packet (what the datapath packet is now)
    FieldSet c_const_ = 0;
    int c_dec_ = 0;
    int depth_ = 0;
    int n_resubmits_ = 0;
    uint8_t current_table_ = 0;
    bool stopped_ = false;   // dec_ttl expiry, drop:REASON, arp_reply: nothing more
    DropReason failed_ = DropReason::Count;   // first tunnel output that could not be built
    bool aborted_ = false;   // loop: the whole translation is a drop
};

}  // namespace

void translate_key(const XlateEnv& env, const FlowKey& key, Translation& out,
                   XlateObserver* observer) {
    out.reset();
    Xlate(env, key, out, observer).run();
}

void translate_key(const FlowTables& tables, const FlowKey& key, Translation& out,
                   XlateObserver* observer) {
    XlateEnv env{tables};
    translate_key(env, key, out, observer);
}

}  // namespace vswitch::ofp
