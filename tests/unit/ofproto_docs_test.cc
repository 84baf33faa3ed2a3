// docs/flow-syntax.md stays true: every line of its ```flows blocks parses, prints in
// canonical form and parses back to the same flow.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "ofproto/flow_format.h"
#include "ofproto/flow_parser.h"
#include "ofproto_fake_ports.h"

using namespace vswitch;
using namespace vswitch::ofp;

namespace {

using DocPorts = vswitch::testing::FakePorts;

std::string doc_path() {
    std::string here = __FILE__;
    return here.substr(0, here.rfind("/tests/unit/")) + "/docs/flow-syntax.md";
}

}  // namespace

TEST_CASE("docs: every flow example parses", "[ofproto][docs]") {
    std::ifstream in(doc_path());
    REQUIRE(in.good());
    DocPorts ports;
    std::string line;
    bool in_block = false;
    int n = 0;
    while (std::getline(in, line)) {
        if (line.rfind("```", 0) == 0) {
            in_block = line == "```flows";
            continue;
        }
        if (!in_block || line.empty()) continue;
        FlowSpec spec;
        FlowError err = parse_flow(line, ports, spec);
        INFO("example: " << line << "\nerror: " << err.message << " near '" << err.token << "'");
        REQUIRE_FALSE(err);
        std::string printed = format_flow(spec, ports);
        FlowSpec again;
        INFO("printed: " << printed);
        REQUIRE_FALSE(parse_flow(printed, ports, again));
        CHECK(again == spec);
        n++;
    }
    CHECK(n >= 30);
}
