// switchctl's command line: global options, the command table, and the translation of
// one command line into one vswitch.api.Request. Pure library code (no socket, no
// stdout) so it is unit-tested without a server; ctl/switchctl/main.cc is the glue.
//
// Contract:
//  - Global options (--socket, --format, --timeout, --help) may appear before or after
//    the command; command options (--strict for del-flows and mod-flows, --clear for
//    pmd-stats) too.
//    "--" ends option parsing (for a port name starting with '-').
//  - Arguments are validated locally so mistakes get a precise message without a round
//    trip: unknown command or option, wrong argument count, add-port without type= or
//    with an argument that is not KEY=VALUE, a non-numeric port_no, ...
//  - add-flows reads its FILE ("-" = stdin) here: one flow per line, blank lines and
//    lines starting with '#' skipped; all flows go into one AddFlowsRequest so switchd
//    applies them atomically. Options::flow_lines remembers each flow's line number so
//    an error naming "flows[i]" can be reported as FILE:LINE.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "vswitch.pb.h"

namespace vswitch::cli {

enum class Format { kText, kJson };

struct Options {
    std::string socket_path;   // caller presets it with default_socket_path()
    Format format = Format::kText;
    std::chrono::milliseconds timeout{30000};   // 0 = wait forever
    std::string command;                        // set once the command word is recognised
    std::string flows_source;                   // add-flows: FILE as given
    std::vector<unsigned> flow_lines;           // add-flows: 1-based line of each flow
    // vpc sync: the line of each object of the VPC file ("vpc.endpoints[3]" -> 7; "vpc"
    // -> the create line), so an error naming a field is reported as FILE:LINE.
    std::vector<std::pair<std::string, unsigned>> vpc_lines;
};

enum class ParseStatus {
    kOk,           // `req` is ready to send
    kHelp,         // --help / -h: print usage_text(), exit 0
    kUsageError,   // bad command line: print err + command_usage(), exit 2
    kInputError,   // the command line is fine but its input is not (unreadable FILE): exit 1
};

struct CommandInfo {
    const char* name;
    const char* synopsis;   // arguments, e.g. "NAME type=vhost-user|dpdk [KEY=VALUE]..."
    const char* summary;
    const char* group;      // help section: "Ports", "Flows", "Groups and meters",
                            // "Datapath", "Overlay", "PMDs"
};

// Every command, in help order.
const std::vector<CommandInfo>& commands();

// $VSWITCH_SOCKET if set and non-empty, else /run/vswitch/switchd.sock.
std::string default_socket_path(const char* env_value);

// Parses argv[1..] into `req` and `opts`. `in` is what "-" reads for add-flows.
ParseStatus build_request(const std::vector<std::string>& args, api::Request& req,
                          Options& opts, std::string& err, std::istream& in);
ParseStatus build_request(const std::vector<std::string>& args, api::Request& req,
                          Options& opts, std::string& err);   // "-" reads std::cin

// The --help text, and the one-line usage of a command ("" if unknown).
std::string usage_text();
std::string command_usage(std::string_view command);

// Splits an add-flows file into flows (trimmed) and their 1-based line numbers.
void split_flow_lines(std::string_view text, std::vector<std::string>& flows,
                      std::vector<unsigned>& lines);

}  // namespace vswitch::cli
