// `switchctl vpc ...`: the VPC subcommands, their translation into VpcBatchRequest /
// VpcSyncRequest / VpcShowRequest / VpcStatsRequest, the VPC file of `vpc sync`, and the
// text rendering of the VPC replies. Pure library code, unit-tested without a server.
//
//   vpc create NAME vni=N [encap=vxlan|gre]
//   vpc delete NAME
//   vpc add-subnet NAME CIDR [gateway=IP] [dns=IP[,IP]...]   vpc del-subnet NAME CIDR
//   vpc bind NAME PORT mac=MAC ip=IP[,IP]...       vpc unbind NAME PORT
//   vpc add-endpoint NAME mac=MAC ip=IP host=IP    vpc del-endpoint NAME mac=MAC
//   vpc add-rule NAME PORT ingress|egress tcp|udp|icmp|any [PORT[-PORT]] [from|to CIDR]
//   vpc del-rule (same arguments)
//   vpc show [NAME]   vpc stats [NAME]   vpc sync FILE
//
// Each change is one op in one VpcBatchRequest with the generation of --generation
// (default 0: unconditional). Arguments are checked for shape here (KEY=VALUE, known
// keys, numbers); MACs, addresses and everything that depends on the switch's state are
// checked by switchd, whose errors name the request field.
//
// The VPC file (vpc sync FILE, "-" = standard input) holds the whole VPC as the change
// subcommands that would build it, one per line, without the leading "vpc":
//
//   # blue
//   create blue vni=5001 encap=vxlan
//   add-subnet blue 10.1.0.0/24 gateway=10.1.0.1
//   bind blue vm1 mac=52:54:00:00:00:01 ip=10.1.0.11
//   add-endpoint blue mac=52:54:00:00:01:07 ip=10.1.0.27 host=192.0.2.2
//   add-rule blue vm1 ingress tcp 22 from 10.1.0.0/16
//
// exactly one create (first), every line naming the same VPC; blank lines and '#'
// comments skipped. It becomes one VpcSyncRequest: switchd makes the VPC exactly that.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/api/cli_args.h"
#include "vswitch.pb.h"

namespace vswitch::cli {

struct VpcSubcommand {
    const char* name;
    const char* synopsis;
    const char* summary;
};
const std::vector<VpcSubcommand>& vpc_subcommands();

// args: the words after "vpc". err is "vpc SUB: problem".
ParseStatus build_vpc_request(const std::vector<std::string>& args, uint64_t generation,
                              api::Request& req, Options& opts, std::string& err, std::istream& in);

// The VPC file into a VpcConfig; err "LINE: problem" (1-based). lines (optional): the
// line of each object, by its field path ("vpc" = the create line, "vpc.bindings[0]").
bool parse_vpc_file(std::string_view text, api::VpcConfig& out, std::string& err,
                    std::vector<std::pair<std::string, unsigned>>* lines = nullptr);
// A VpcConfig as a VPC file (what `vpc show` prints under each VPC, minus the indent).
std::string format_vpc_file(const api::VpcConfig& c);

std::string format_vpc_batch(const api::VpcBatchReply& r);   // "" unless something was skipped
std::string format_vpc_show(const api::VpcShowReply& r);
std::string format_vpc_stats(const api::VpcStatsReply& r);

}  // namespace vswitch::cli
