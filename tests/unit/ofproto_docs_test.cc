// docs/flow-syntax.md stays true: every line of its ```flows blocks parses, prints in
// canonical form and parses back to the same flow.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <optional>
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

// The Errors table: each row whose input is a lone flow (no note after it) is refused
// with the documented message, and with the documented token where the row gives it
// whole ("..." abbreviates).
TEST_CASE("docs: every error row is the parser's answer", "[ofproto][docs]") {
    std::ifstream in(doc_path());
    REQUIRE(in.good());
    DocPorts ports;
    std::string line;
    bool in_errors = false;
    int n = 0;
    auto cell = [](const std::string& c) -> std::optional<std::string> {
        // "`text`" exactly, or nothing: a cell with a note or without code is skipped.
        if (c.size() < 2 || c.front() != '`' || c.back() != '`') return std::nullopt;
        const std::string t = c.substr(1, c.size() - 2);
        if (t.find('`') != std::string::npos) return std::nullopt;
        return t;
    };
    while (std::getline(in, line)) {
        if (line.rfind("## ", 0) == 0) in_errors = line == "## Errors";
        if (!in_errors || line.rfind("| `", 0) != 0) continue;
        std::vector<std::string> cols;
        std::stringstream ss(line.substr(1));
        std::string c;
        while (std::getline(ss, c, '|')) {
            const size_t b = c.find_first_not_of(' '), e = c.find_last_not_of(' ');
            cols.push_back(b == std::string::npos ? "" : c.substr(b, e - b + 1));
        }
        if (cols.size() < 3) continue;
        const auto input = cell(cols[0]), token = cell(cols[1]), message = cell(cols[2]);
        if (!input || !message) continue;
        FlowSpec spec;
        FlowError err = parse_flow(*input, ports, spec);
        INFO("row: " << line << "\nerror: " << err.message << " near '" << err.token << "'");
        REQUIRE(err);
        CHECK(err.message == *message);
        if (token && token->find("...") == std::string::npos) CHECK(err.token == *token);
        n++;
    }
    CHECK(n >= 40);
}
