// NORMAL: the L2 learning switch behind the OpenFlow NORMAL action.
//
// translate.cc calls xlate_normal() where a rule's actions say NORMAL. It
//  1. drops frames with a multicast/broadcast source (no valid sender; never learned);
//  2. learns (VLAN, dl_src) -> in_port in the MacLearning table (only if may_learn);
//  3. forwards: multicast/broadcast dl_dst, or a unicast dl_dst not in the table (or
//     learned on a port that is no longer in `ports`), floods to every port of `ports`
//     except in_port, in port order; a known unicast dl_dst goes to its port, or is
//     dropped if that port is in_port (no hairpin).
// The frame is output unchanged (its VLAN tag included): the VLAN only selects the
// MAC table. VLAN = VID of key.vlan_tci; untagged and priority-tagged frames are VLAN 0.
//
// Mask (ORed into out.mask; the same for a given key whatever the table holds, so
// revalidation never sees a mask change because the table changed):
//  - multicast source: dl_src's group bit only (all such frames drop the same way);
//  - otherwise in_port, the whole dl_src, vlan_tci's VID and CFI bits (learning and the
//    hairpin check depend on them: a new source or a new port must upcall, so it gets
//    learned), and for dl_dst either its group bit only (multicast: flooded whatever
//    the group) or all of it (unicast: looked up).
// The table contents are not in the mask: a change to them bumps MacLearning::version()
// and the control thread re-translates every megaflow.
//
// Learning and refresh (why learning is not only done at translation time):
//  - On an upcall (may_learn = true) the source is learned immediately, so the reply
//    to a flooded frame is already unicast.
//  - A megaflow then carries that traffic without upcalls, so translation alone would
//    let a busy sender's entry age out, and would never notice it coming back to a port
//    it had left while an old megaflow for that port still exists. So xlate_normal()
//    also appends a StatsSink to out.rules for the (VLAN, dl_src, in_port) it saw; the
//    revalidator credits it whenever the megaflow carried packets since the previous
//    pass, and a credit with packets is a learn() (refresh, or a move back). Idle
//    megaflows learn nothing.
//  - Re-translation during revalidation must pass may_learn = false: it replays the
//    megaflow's first key, which may be stale (the MAC has moved since), and learning
//    from it would move the MAC back and forth on every revalidation.
// The sink points at `ml`: the MacLearning must outlive every megaflow (own it next to
// the tables in Ofproto, which the datapath already has to outlive).
//
// Thread safety: as MacLearning (PMD threads on upcalls, control thread on
// revalidation). `ports` must be a snapshot that stays valid during the call.
#pragma once

#include <cstdint>
#include <span>

#include "ofproto/mac_learning.h"
#include "switch/upcall.h"

namespace vswitch::ofp {

// What NORMAL decided (for tests, trace and counters).
enum class NormalVerdict : uint8_t {
    DropMulticastSrc,   // source is a group address: dropped, not learned
    Flood,              // multicast/broadcast or unknown destination
    Unicast,            // known destination, one output
    DropHairpin,        // known destination on the ingress port
};
const char* to_string(NormalVerdict v);

// Runs NORMAL for `key` (the packet as NORMAL sees it: after earlier actions of the
// pipeline, if any rewrote it). Appends to out.actions and out.rules, ORs into out.mask;
// touches nothing else of out.
//   ports: every port NORMAL may output to, sorted ascending, no duplicates (in_port
//          may or may not be in it; it is never output to).
//   may_learn: true on upcalls, false when re-translating a cached megaflow.
NormalVerdict xlate_normal(MacLearning& ml, std::span<const uint32_t> ports, const FlowKey& key,
                           Translation& out, bool may_learn);

// The VLAN NORMAL uses for key: VID of vlan_tci (host order), 0 if untagged.
uint16_t normal_vlan(const FlowKey& key);

}  // namespace vswitch::ofp
