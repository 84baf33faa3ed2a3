// DpAction equality and dp_actions_to_string.
#include <rte_byteorder.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "dp_actions.h"

using namespace vswitch;

namespace {

DpAction make(DpActionType t) {
    DpAction a{};
    a.type = t;
    return a;
}

}  // namespace

TEST_CASE("dp_actions: equality looks at the fields a type uses", "[switch][dp_actions]") {
    CHECK(DpAction::output(3) == DpAction::output(3));
    CHECK_FALSE(DpAction::output(3) == DpAction::output(4));

    DpAction v1 = make(DpActionType::PushVlan), v2 = make(DpActionType::PushVlan);
    v1.arg.u16 = 0x1064;
    v2.arg.u16 = 0x1064;
    v2.port = 99;   // unused by PushVlan
    CHECK(v1 == v2);
    v2.arg.u16 = 0x1065;
    CHECK_FALSE(v1 == v2);
    CHECK_FALSE(DpAction::output(0) == make(DpActionType::PopVlan));

    DpAction m1 = make(DpActionType::SetEthDst), m2 = make(DpActionType::SetEthDst);
    const uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
    std::memcpy(m1.arg.mac, mac, 6);
    std::memcpy(m2.arg.mac, mac, 6);
    CHECK(m1 == m2);
    m2.arg.mac[5] = 7;
    CHECK_FALSE(m1 == m2);

    CHECK(make(DpActionType::DecTtl) == make(DpActionType::DecTtl));
    DpActionList a{DpAction::output(1), DpAction::output(2)}, b = a;
    CHECK(a == b);
    b[1].port = 5;
    CHECK(a != b);
}

TEST_CASE("dp_actions: text form", "[switch][dp_actions]") {
    CHECK(dp_actions_to_string({}) == "drop");
    CHECK(dp_actions_to_string({DpAction::output(2), DpAction::output(3)}) == "output:2,output:3");
    auto names = [](uint32_t p) { return p == 2 ? std::string("vm1") : std::string(); };
    CHECK(dp_actions_to_string({DpAction::output(2), DpAction::output(3)}, names) ==
          "output:vm1,output:3");

    DpAction push = make(DpActionType::PushVlan);
    push.arg.u16 = 0xa064 | 0x1000;   // pcp 5, CFI, vid 100
    DpAction src = make(DpActionType::SetIpv4Src);
    src.arg.u32 = rte_cpu_to_be_32(0x0a000001);
    DpAction tp = make(DpActionType::SetTpDst);
    tp.arg.u16 = rte_cpu_to_be_16(8080);
    DpAction eth = make(DpActionType::SetEthSrc);
    const uint8_t mac[6] = {0, 0x11, 0x22, 0x33, 0x44, 0xff};
    std::memcpy(eth.arg.mac, mac, 6);
    DpAction rec = make(DpActionType::Recirculate);
    rec.arg.u32 = 4;
    CHECK(dp_actions_to_string({push, src, tp, eth, make(DpActionType::PopVlan), rec}) ==
          "push_vlan(vid=100,pcp=5),set_ipv4_src(10.0.0.1),set_tp_dst(8080),"
          "set_eth_src(00:11:22:33:44:ff),pop_vlan,recirc(4)");
}
